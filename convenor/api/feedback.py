"""Feedback in the JSON API: boards, ideas, votes, comments, follows, status changes, merges,
links to posts and (staff) outside posts, the demand view (staff) and the changelog.

Every read starts from the permission gate: an idea on a board the token's user cannot read
answers ``not_found``, and never shows up in a list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from convenor.core import access
from convenor.core.errors import invalid
from convenor.feedback import selectors, services
from convenor.feedback.models import (
    Board,
    BoardVisibility,
    Idea,
    IdeaComment,
    IdeaSource,
    IdeaStatus,
    SourceKind,
    StatusChange,
    Vote,
)
from convenor.listening import selectors as listening_selectors
from convenor.listening.models import Conduit, PostKind

from .auth import viewer
from .pagination import Page, PageParams, envelope, paginate
from .schemas import ERRORS, ErrorOut
from .spaces import member_of

router = Router(tags=["feedback"])


# --- schemas --------------------------------------------------------------------------------


class BoardOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    visibility: BoardVisibility
    organization_id: int | None = Field(description="The customer whose private board this is (account boards).")
    idea_count: int
    created_at: datetime


class BoardPage(Page):
    items: list[BoardOut]


class BoardIn(Schema):
    name: str
    description: str = ""
    visibility: BoardVisibility = BoardVisibility.MEMBERS
    organization_id: int | None = Field(None, description="Required for an account board.")


class PersonOut(Schema):
    id: int
    name: str


class IdeaOut(Schema):
    id: int
    board_id: int
    title: str
    description: str = Field(description="Markdown, as written.")
    status: IdeaStatus
    author: PersonOut | None = Field(
        description="Who is credited: the author of the post it came from, or who submitted it."
    )
    merged_into_id: int | None = Field(description="Set when the idea was merged into another (its votes went there).")
    vote_count: int
    comment_count: int
    follower_count: int
    created_at: datetime
    status_changed_at: datetime | None
    shipped_at: datetime | None
    changelog_note: str


class IdeaPage(Page):
    items: list[IdeaOut]


class IdeaFilters(Schema):
    board_id: int | None = None
    sort: str = Field(
        "top", pattern="^(top|new|trending)$", description="top (votes), new, or trending (recent votes)."
    )
    q: str = Field("", description="Words in the title or description.")
    status: IdeaStatus | None = None


class IdeaIn(Schema):
    board_id: int
    title: str
    description: str = ""
    post_id: int | None = Field(
        None, description="Turn this post into the idea: its author is credited and the idea keeps the link."
    )
    outside_post_id: int | None = Field(
        None,
        description="Staff: turn this outside post (GET /listening/posts) into the idea: its author is credited "
        "and the idea keeps the link.",
    )


class OutsidePostRef(Schema):
    id: int
    source_id: int
    source_name: str
    conduit: Conduit
    kind: PostKind
    space: str
    title: str
    url: str
    occurred_at: datetime


class SourceOut(Schema):
    id: int
    kind: SourceKind = Field(description="post (a post in a space) or activity (from an outside conduit).")
    post_id: int | None
    thread_id: int | None
    space_id: int | None
    activity_id: int | None
    conduit: str = Field(description="For an outside post: its source's key in the activity log.")
    outside_post: OutsidePostRef | None = Field(
        None, description="For an outside post: where it was said, with the link to the original (staff only)."
    )
    author: PersonOut | None
    excerpt: str
    created_at: datetime


class IdeaDetailOut(IdeaOut):
    sources: list[SourceOut] = Field(description="The posts (that the viewer may read) and conduits it came from.")
    my_vote: int | None = Field(description="Null: not voted; 0: voted without an importance; 1-3: the importance.")
    following: bool


class SourceIn(Schema):
    post_id: int | None = Field(None, description="A post in a space.")
    outside_post_id: int | None = Field(None, description="Staff: an outside post (GET /listening/posts).")


class VoteIn(Schema):
    importance: int | None = Field(None, description="1 nice to have, 2 important, 3 critical.")


class VoteOut(Schema):
    idea_id: int
    member_id: int
    importance: int | None
    created_at: datetime
    vote_count: int = Field(description="The idea's votes after this one.")


class FollowOut(Schema):
    following: bool


class CommentOut(Schema):
    id: int
    author: PersonOut
    body: str
    by_staff: bool
    created_at: datetime


class CommentPage(Page):
    items: list[CommentOut]


class CommentIn(Schema):
    body: str


class StatusChangeOut(Schema):
    id: int
    from_status: IdeaStatus
    to_status: IdeaStatus
    note: str
    by: PersonOut | None
    created_at: datetime
    loop: dict[str, Any] = Field(description="What closing the loop did: notified, replies, announcements, skipped.")


class StatusChangePage(Page):
    items: list[StatusChangeOut]


class StatusChangeIn(Schema):
    status: IdeaStatus
    note: str = ""


class MergeIn(Schema):
    target_id: int = Field(description="The idea this one is a duplicate of.")


class DemandFiltersIn(Schema):
    role: str = ""
    organization_id: int | None = None
    segment: str = Field("", description="An organisation industry.")
    group_space_id: int | None = Field(None, description="A hot group's space.")
    account_id: int | None = Field(None, description="A customer: ideas on its board or raised in its private space.")
    board_id: int | None = None
    status: IdeaStatus | None = None


class DemandOut(Schema):
    idea: IdeaOut
    votes: int
    weight: float = Field(description="Sum of the voters' organisations' demand weights.")
    critical: int
    spaces: list[str]
    groups: list[str]
    conduits: list[str]
    organizations: list[str]


class DemandPage(Page):
    items: list[DemandOut]


# --- boards ---------------------------------------------------------------------------------


@router.get("/boards", response={200: BoardPage, 401: ErrorOut, 422: ErrorOut})
def board_list(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Boards the token's user may read, by name."""
    return paginate(request, selectors.board_list(viewer=viewer(request)).order_by("name", "pk"), page)


@router.post("/boards", response={201: BoardOut, **ERRORS})
def board_create(request: HttpRequest, payload: BoardIn) -> tuple[int, Board]:
    """Create a board (admins, community managers, product staff)."""
    user = viewer(request)
    access.require(access.can_manage_feedback(user), "Only product staff, admins and community managers create boards")
    org = access.organization_for_view(user, payload.organization_id) if payload.organization_id else None
    board = services.board_create(
        name=payload.name,
        visibility=payload.visibility,
        description=payload.description,
        organization=org,
        creator=access.viewer_member(user),
        actor=user,
    )
    return 201, board


@router.get("/boards/{board_id}", response={200: BoardOut, **ERRORS})
def board_detail(request: HttpRequest, board_id: int) -> Board:
    return access.board_id_for_view(viewer(request), board_id)


# --- ideas ----------------------------------------------------------------------------------


@router.get("/ideas", response={200: IdeaPage, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def idea_list(request: HttpRequest, filters: Query[IdeaFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Ideas the token's user may see (merged ones left out), on one board or all."""
    user = viewer(request)
    board = access.board_id_for_view(user, filters.board_id) if filters.board_id else None
    qs = selectors.idea_list(viewer=user, board=board, sort=filters.sort, q=filters.q, status=filters.status or "")
    return paginate(request, qs, page)


@router.post("/ideas", response={201: IdeaDetailOut, **ERRORS})
def idea_create(request: HttpRequest, payload: IdeaIn) -> tuple[int, dict[str, Any]]:
    """Submit an idea, or (with ``post_id``) turn a post into one, crediting its author."""
    user = viewer(request)
    board = access.board_id_for_view(user, payload.board_id)
    me = member_of(user)
    if payload.post_id is not None and payload.outside_post_id is not None:
        raise invalid("Give a post or an outside post, not both", outside_post_id="leave out post_id")
    if payload.post_id is not None:
        post = access.post_for_view(user, payload.post_id)
        idea = services.idea_from_post(
            post=post, board=board, by=me, title=payload.title, description=payload.description
        )
    elif payload.outside_post_id is not None:
        activity = listening_selectors.post_activity(access.outside_post_for_view(user, payload.outside_post_id))
        idea = services.idea_from_activity(
            activity=activity, board=board, by=me, title=payload.title, description=payload.description
        )
    else:
        idea = services.idea_create(board=board, author=me, title=payload.title, description=payload.description)
    return 201, _detail(request, idea)


def _detail(request: HttpRequest, idea: Idea) -> dict[str, Any]:
    user = viewer(request)
    me = access.viewer_member(user)
    vote = selectors.vote_of(idea=idea, member=me)
    out = IdeaOut.model_validate(idea).model_dump()
    out["sources"] = _sources_out(selectors.idea_sources(idea=idea, viewer=user))
    out["my_vote"] = None if vote is None else (vote.importance or 0)
    out["following"] = selectors.is_following(idea=idea, member=me)
    return out


def _sources_out(sources: list[IdeaSource]) -> list[dict[str, Any]]:
    outside = selectors.outside_origins(sources)
    out = []
    for s in sources:
        row = SourceOut.model_validate(s).model_dump()
        post = outside.get(s.pk)
        if post is not None:
            row["outside_post"] = {
                "id": post.pk,
                "source_id": post.source_id,
                "source_name": post.source.name,
                "conduit": post.conduit,
                "kind": post.kind,
                "space": post.space,
                "title": post.title,
                "url": post.url,
                "occurred_at": post.occurred_at,
            }
        out.append(row)
    return out


@router.get("/ideas/demand", response={200: DemandPage, **ERRORS})
def idea_demand(request: HttpRequest, filters: Query[DemandFiltersIn], page: Query[PageParams]) -> dict[str, Any]:
    """Ideas ranked by the weight of their voters' organisations, then by votes (staff only)."""
    rows = selectors.demand(
        viewer=viewer(request),
        filters=selectors.DemandFilters(
            role=filters.role,
            organization_id=filters.organization_id,
            segment=filters.segment,
            group_space_id=filters.group_space_id,
            account_id=filters.account_id,
            board_id=filters.board_id,
            status=filters.status or "",
        ),
        limit=page.page * page.page_size,
    )
    start = (page.page - 1) * page.page_size
    items = [
        {
            "idea": r.idea,
            "votes": r.votes,
            "weight": r.weight,
            "critical": r.critical,
            "spaces": r.spaces,
            "groups": r.groups,
            "conduits": r.conduits,
            "organizations": r.organizations,
        }
        for r in rows[start:]
    ]
    # The ranking is cut at what was asked for: the count says whether another page may follow.
    count = len(rows) + (1 if len(rows) == page.page * page.page_size else 0)
    return envelope(request, items, count, page)


@router.get("/ideas/changelog", response={200: IdeaPage, 401: ErrorOut, 422: ErrorOut})
def idea_changelog(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Shipped ideas on the boards the token's user may read, latest first."""
    return paginate(request, selectors.changelog(viewer=viewer(request)), page)


@router.get("/ideas/{idea_id}", response={200: IdeaDetailOut, **ERRORS})
def idea_detail(request: HttpRequest, idea_id: int) -> dict[str, Any]:
    return _detail(request, access.idea_for_view(viewer(request), idea_id))


@router.post("/ideas/{idea_id}/sources", response={201: SourceOut, **ERRORS})
def idea_link_post(request: HttpRequest, idea_id: int, payload: SourceIn) -> tuple[int, dict[str, Any]]:
    """Link a post, or (staff) an outside post, to an existing idea: the idea keeps the link,
    the author is credited. Linking the same one twice answers ``duplicate``."""
    user = viewer(request)
    if payload.post_id is not None and payload.outside_post_id is not None:
        raise invalid("Give a post or an outside post, not both", outside_post_id="leave out post_id")
    idea = access.idea_for_view(user, idea_id)
    if payload.post_id is not None:
        post = access.post_for_view(user, payload.post_id)
        source = services.idea_link_post(idea=idea, post=post, by=member_of(user))
    elif payload.outside_post_id is not None:
        activity = listening_selectors.post_activity(access.outside_post_for_view(user, payload.outside_post_id))
        source = services.idea_link_activity(idea=idea, activity=activity, by=member_of(user))
    else:
        raise invalid("Give the post or the outside post to link", post_id="post_id or outside_post_id is required")
    return 201, _sources_out([source])[0]


# --- votes and follows ----------------------------------------------------------------------


@router.post("/ideas/{idea_id}/votes", response={201: VoteOut, **ERRORS})
def vote_cast(request: HttpRequest, idea_id: int, payload: VoteIn) -> tuple[int, dict[str, Any]]:
    """Vote once. A second vote answers ``duplicate``; a declined, shipped or merged idea ``conflict``."""
    user = viewer(request)
    idea = access.idea_for_view(user, idea_id)
    vote: Vote = services.vote_cast(idea=idea, member=member_of(user), importance=payload.importance)
    idea.refresh_from_db(fields=["vote_count"])
    return 201, {
        "idea_id": idea.pk,
        "member_id": vote.member_id,
        "importance": vote.importance,
        "created_at": vote.created_at,
        "vote_count": idea.vote_count,
    }


@router.delete("/ideas/{idea_id}/votes", response={204: None, **ERRORS})
def vote_withdraw(request: HttpRequest, idea_id: int) -> tuple[int, None]:
    """Take one's vote back (nothing happens if there was none)."""
    user = viewer(request)
    services.vote_withdraw(idea=access.idea_for_view(user, idea_id), member=member_of(user))
    return 204, None


@router.post("/ideas/{idea_id}/follow", response={200: FollowOut, **ERRORS})
def idea_follow(request: HttpRequest, idea_id: int) -> dict[str, bool]:
    user = viewer(request)
    services.follow_set(idea=access.idea_for_view(user, idea_id), member=member_of(user), on=True)
    return {"following": True}


@router.delete("/ideas/{idea_id}/follow", response={200: FollowOut, **ERRORS})
def idea_unfollow(request: HttpRequest, idea_id: int) -> dict[str, bool]:
    user = viewer(request)
    services.follow_set(idea=access.idea_for_view(user, idea_id), member=member_of(user), on=False)
    return {"following": False}


# --- comments -------------------------------------------------------------------------------


@router.get("/ideas/{idea_id}/comments", response={200: CommentPage, **ERRORS})
def comment_list(request: HttpRequest, idea_id: int, page: Query[PageParams]) -> dict[str, Any]:
    idea = access.idea_for_view(viewer(request), idea_id)
    return paginate(request, selectors.idea_comments(idea=idea), page)


@router.post("/ideas/{idea_id}/comments", response={201: CommentOut, **ERRORS})
def comment_add(request: HttpRequest, idea_id: int, payload: CommentIn) -> tuple[int, IdeaComment]:
    user = viewer(request)
    idea = access.idea_for_view(user, idea_id)
    return 201, services.comment_add(idea=idea, author=member_of(user), body=payload.body)


# --- statuses and merges --------------------------------------------------------------------


@router.get("/ideas/{idea_id}/status-changes", response={200: StatusChangePage, **ERRORS})
def status_history(request: HttpRequest, idea_id: int, page: Query[PageParams]) -> dict[str, Any]:
    """The idea's status history, latest first, each change with its note."""
    idea = access.idea_for_view(viewer(request), idea_id)
    return paginate(request, selectors.status_history(idea=idea), page)


@router.post("/ideas/{idea_id}/status-changes", response={201: StatusChangeOut, **ERRORS})
def status_change(request: HttpRequest, idea_id: int, payload: StatusChangeIn) -> tuple[int, StatusChange]:
    """Change the status (feedback staff) and close the loop: voters and followers notified, a
    reply in each thread it came from, a post in the group and account spaces where it was raised."""
    user = viewer(request)
    idea = access.idea_for_change(user, idea_id)
    return 201, services.status_change(idea=idea, to_status=payload.status, note=payload.note, by=user)


@router.post("/ideas/{idea_id}/merge", response={200: IdeaDetailOut, **ERRORS})
def idea_merge(request: HttpRequest, idea_id: int, payload: MergeIn) -> dict[str, Any]:
    """Merge this duplicate into ``target_id``; answers the target, recounted."""
    user = viewer(request)
    source = access.idea_for_change(user, idea_id)
    target = access.idea_for_view(user, payload.target_id)
    return _detail(request, services.idea_merge(source=source, target=target, by=user))
