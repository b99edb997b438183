"""Threads and posts: list, start, reply, moderate, accept, edit, react.

Replying is not idempotent: a retried ``POST /threads/{id}/posts`` posts twice, so clients
should not retry it blindly after a timeout (list the thread's posts first). Reacting is
a toggle and safe against double clicks.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from convenor.core import access
from convenor.spaces import selectors, services
from convenor.spaces.models import Post, Thread

from .auth import viewer
from .errors import fields_renamed
from .pagination import PageParams, paginate
from .schemas import (
    ERRORS,
    AcceptIn,
    FollowOut,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
    ReactionIn,
    ReactionOut,
    RevisionPage,
    ThreadDetailOut,
    ThreadFilters,
    ThreadIn,
    ThreadPage,
    ThreadPatch,
)
from .spaces import member_of

router = Router(tags=["threads"])


# --- threads ---------------------------------------------------------------------------------


@router.get("/spaces/{space_id}/threads", response={200: ThreadPage, **ERRORS})
def thread_list(
    request: HttpRequest, space_id: int, filters: Query[ThreadFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """Threads of a space: latest (pinned first), top, or unanswered."""
    space = access.space_for_view(viewer(request), space_id)
    return paginate(request, selectors.space_threads(space=space, order=filters.order, viewer=request.user), page)


@router.post("/spaces/{space_id}/threads", response={201: ThreadDetailOut, **ERRORS})
def thread_create(request: HttpRequest, space_id: int, payload: ThreadIn) -> tuple[int, Thread]:
    """Start a thread with its opening post. Not idempotent: do not retry blindly."""
    user = viewer(request)
    space = access.space_for_view(user, space_id)
    thread = services.thread_create(
        space=space,
        author=member_of(user),
        title=payload.title,
        body=payload.body,
        kind=payload.kind,
        needs_staff=payload.needs_staff,
    )
    return 201, thread


@router.get("/threads/{thread_id}", response={200: ThreadDetailOut, **ERRORS})
def thread_detail(request: HttpRequest, thread_id: int) -> Thread:
    return access.thread_for_view(viewer(request), thread_id)


@router.patch("/threads/{thread_id}", response={200: ThreadDetailOut, **ERRORS})
def thread_update(request: HttpRequest, thread_id: int, payload: ThreadPatch) -> Thread:
    """Pin, lock or flag as needing staff (moderators); the author may flag it too."""
    user = viewer(request)
    thread = access.thread_for_view(user, thread_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    if set(changes) - {"needs_staff"}:
        access.require(access.can_moderate(user, thread.space), "Only moderators may pin or lock threads")
    elif changes:
        me = access.viewer_member(user)
        is_author = me is not None and me.pk == thread.author_id
        access.require(is_author or access.can_moderate(user, thread.space), "Only the author or a moderator may")
    return services.thread_moderate(thread=thread, actor=user, **changes)


@router.post("/threads/{thread_id}/accept", response={200: ThreadDetailOut, **ERRORS})
def thread_accept(request: HttpRequest, thread_id: int, payload: AcceptIn) -> Thread:
    """Mark a reply as the accepted answer to a question (the asker or a moderator)."""
    user = viewer(request)
    thread = access.thread_for_view(user, thread_id)
    post = access.post_for_view(user, payload.post_id)
    with fields_renamed(post="post_id"):
        return services.answer_accept(
            thread=thread, post=post, by=member_of(user), can_moderate=access.can_moderate(user, thread.space)
        )


@router.post("/threads/{thread_id}/follow", response={200: FollowOut, **ERRORS})
def thread_follow(request: HttpRequest, thread_id: int) -> dict[str, bool]:
    user = viewer(request)
    thread = access.thread_for_view(user, thread_id)
    return {"following": services.follow_set(member=member_of(user), on=True, thread=thread)}


@router.delete("/threads/{thread_id}/follow", response={200: FollowOut, **ERRORS})
def thread_unfollow(request: HttpRequest, thread_id: int) -> dict[str, bool]:
    user = viewer(request)
    thread = access.thread_for_view(user, thread_id)
    return {"following": services.follow_set(member=member_of(user), on=False, thread=thread)}


# --- posts -----------------------------------------------------------------------------------


@router.get("/threads/{thread_id}/posts", response={200: PostPage, **ERRORS})
def post_list(request: HttpRequest, thread_id: int, page: Query[PageParams]) -> dict[str, Any]:
    """The thread's posts, oldest first; the first is the opening post."""
    thread = access.thread_for_view(viewer(request), thread_id)
    # The thread row comes along so that each post can say whether it is the accepted answer.
    return paginate(request, selectors.thread_posts(thread=thread, viewer=request.user).select_related("thread"), page)


@router.post("/threads/{thread_id}/posts", response={201: PostOut, **ERRORS})
def post_create(request: HttpRequest, thread_id: int, payload: PostIn) -> tuple[int, Post]:
    """Reply in a thread. Not idempotent: a retry posts twice, so do not retry blindly."""
    user = viewer(request)
    thread = access.thread_for_view(user, thread_id)
    parent = access.post_for_view(user, payload.parent_id) if payload.parent_id is not None else None
    with fields_renamed(parent="parent_id"):
        post = services.post_reply(thread=thread, author=member_of(user), body=payload.body, parent=parent)
    return 201, post


@router.get("/posts/{post_id}", response={200: PostOut, **ERRORS})
def post_detail(request: HttpRequest, post_id: int) -> Post:
    return access.post_for_view(viewer(request), post_id)


@router.patch("/posts/{post_id}", response={200: PostOut, **ERRORS})
def post_update(request: HttpRequest, post_id: int, payload: PostPatch) -> Post:
    """Change a post's text (its author or a moderator); the old text is kept as a revision."""
    user = viewer(request)
    post = access.post_for_change(user, post_id)
    return services.post_edit(post=post, editor=member_of(user), body=payload.body)


@router.get("/posts/{post_id}/revisions", response={200: RevisionPage, **ERRORS})
def post_revision_list(request: HttpRequest, post_id: int, page: Query[PageParams]) -> dict[str, Any]:
    """Earlier texts of an edited post, newest first."""
    post = access.post_for_view(viewer(request), post_id)
    return paginate(request, selectors.post_revisions(post=post), page)


@router.post("/posts/{post_id}/reactions", response={200: ReactionOut, **ERRORS})
def reaction_toggle(request: HttpRequest, post_id: int, payload: ReactionIn) -> dict[str, Any]:
    """Add the token user's reaction of this kind, or take it back if it is there."""
    user = viewer(request)
    post = access.post_for_view(user, post_id)
    on = services.reaction_toggle(post=post, member=member_of(user), kind=payload.kind)
    return {"on": on, "count": selectors.reaction_count(post=post, kind=payload.kind)}
