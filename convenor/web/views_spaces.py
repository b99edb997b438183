"""Pages for spaces, threads and posts.

Thin like the rest of the web app: every id or slug from the URL or a form goes through the
permission gate (core/access.py), reads go through convenor.spaces.selectors and writes
through convenor.spaces.services. Public spaces and their threads can be read without
logging in; anything else answers 404 to a logged-in person who may not see it, and sends
an anonymous visitor to the login page (whether or not it exists, so nothing leaks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from convenor.charter import selectors as charter_selectors
from convenor.core import access
from convenor.core.access import AnyUser
from convenor.core.errors import ApplicationError, ErrorCode, not_found
from convenor.core.models import User
from convenor.events import selectors as event_selectors
from convenor.events.models import Event
from convenor.feedback.templatetags.feedback_tags import PagePost, page_posts
from convenor.people import selectors as people_selectors
from convenor.people.models import Member
from convenor.spaces import markdown, selectors, services
from convenor.spaces.models import (
    Frame,
    MembershipState,
    Post,
    PostState,
    ReactionKind,
    Space,
    SpaceRole,
    Thread,
    ThreadKind,
    Visibility,
)
from convenor.web import calendar_links, forms, forms_spaces, gzipped, pagecache, sessions
from convenor.web import context as context_processors
from convenor.web.csrf import get_token
from convenor.web.post_html import (
    CSRF_SLOT,
    Chip,
    PostRow,
    _url_for,
    escape,
    personalise,
    render_post_list,
    render_posts,
)
from convenor.web.views import _page, _safe_next, _viewer

T = TypeVar("T")

SPACES_PER_PAGE = 50
THREADS_PER_PAGE = 30
POSTS_PER_PAGE = 100
# A visitor's cached space page says "3 hours ago": let it age by a minute at most.
SPACE_PAGE_TTL = 60
# What each reaction says, beside its emoji (and for screen readers).
REACTION_NAMES = {"like": "Like", "thanks": "Thanks", "insightful": "Insightful", "celebrate": "Celebrate"}
TABS = [("latest", "Latest"), ("top", "Top"), ("unanswered", "Unanswered")]


# --- helpers -------------------------------------------------------------------------------


def _readable(request: HttpRequest, fetch: Callable[[], T]) -> T:
    """Fetch through the gate; an anonymous visitor who finds nothing is asked to log in."""
    try:
        return fetch()
    except ApplicationError as err:
        if err.code == ErrorCode.NOT_FOUND and not access.is_authenticated(request.user):
            raise ApplicationError(ErrorCode.NOT_AUTHENTICATED, "Log in to see this") from None
        raise


def _say(err: ApplicationError) -> str:
    """An error as one sentence for a message at the top of the page, field details included."""
    details = [m for messages_ in err.fields.values() for m in messages_]
    return f"{err.message}: {'; '.join(details)}." if details else err.message


def _member(user: User) -> Member:
    me = access.viewer_member(user)
    if me is None:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Your account has no member profile, so it cannot post")
    return me


def _viewer_member(request: HttpRequest) -> Member | None:
    return access.viewer_member(request.user) if access.is_authenticated(request.user) else None


def post_url(post: Post) -> str:
    """The thread page that shows `post`, at its anchor."""
    page = selectors.post_position(post=post) // POSTS_PER_PAGE + 1
    url = reverse("web:thread_detail", args=[post.thread_id])
    return f"{url}?page={page}#post-{post.pk}" if page > 1 else f"{url}#post-{post.pk}"


def _back_to_space(space: Space) -> HttpResponse:
    return redirect("web:space_detail", slug=space.slug)


# --- spaces --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def space_list(request: HttpRequest) -> HttpResponse:
    """Spaces the viewer may read (public ones for anonymous visitors); staff create spaces here."""
    user = request.user
    frame = request.GET.get("frame", "")
    frame = frame if frame in Frame.values else ""
    can_create = access.can_create_spaces(user)
    form = forms_spaces.SpaceForm(request.POST or None) if can_create else None
    if request.method == "POST":
        me = _viewer(request)
        access.require(can_create, "Only admins and community managers may create spaces")
        assert form is not None
        if form.is_valid():
            data = form.cleaned_data
            try:
                space = services.space_create(
                    name=data["name"],
                    frame=data["frame"],
                    visibility=data["visibility"],
                    description=data["description"],
                    creator=access.viewer_member(me),
                    actor=me,
                )
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                messages.success(request, f"The space {space.name} was created.")
                return _back_to_space(space)
    me_member = _viewer_member(request)
    page = _page(request, selectors.space_list(viewer=user, frame=frame), SPACES_PER_PAGE)
    memberships = selectors.memberships_by_space(member=me_member)
    rows = [(s, memberships.get(s.pk)) for s in page.object_list]
    return render(
        request,
        "web/spaces/space_list.html",
        {"page_obj": page, "rows": rows, "frame": frame, "frames": Frame.choices, "form": form},
    )


def space_detail(request: HttpRequest, slug: str) -> HttpResponse:
    early = _read_with_session(
        request,
        lambda user_id, session: selectors.space_and_reader_facts(user_id=user_id, slug=slug, session=session),
    )
    if pagecache.for_visitor(request, ("tab", "page")):
        # A visitor on a public space: one page for all, kept until a thread in it or one of
        # its coming events changes (pagecache.py says exactly what the key holds).
        stamp = pagecache.space_stamp(slug)
        if stamp is not None:
            key = pagecache.key("space", stamp, request.path, request.GET.get("tab", ""), request.GET.get("page", ""))
            return pagecache.serve(request, key, lambda: _space_detail(request, slug), ttl=SPACE_PAGE_TTL)
    return _space_detail(request, slug, early=early)


def _space_detail(
    request: HttpRequest,
    slug: str,
    *,
    share: bool = True,
    early: tuple[int, tuple[Space, selectors.ReaderFacts | None] | None] | None = None,
) -> HttpResponse:
    user = request.user
    tab = request.GET.get("tab", "latest")
    tab = tab if tab in dict(TABS) else "latest"
    if share and isinstance(user, User) and _reader_page(request):
        # The space and the reader's facts in one query (the gate's own only when the space
        # is not public), for the page kept for readers alike; as on the thread page.
        found = (
            early[1]
            if early is not None and early[0] == user.pk
            else selectors.space_and_reader_facts(user_id=user.pk, slug=slug)
        )
        space, facts = found if found is not None else (None, None)
        if space is None or not access.is_public_space(space):
            space = _readable(request, lambda: access.space_by_slug_for_view(user, slug))
        kept = _reader_space_page(request, space, tab, facts)
        if kept is not None:
            return kept
    else:
        space = access.public_space_for_view_sql(slug) or _readable(
            request, lambda: access.space_by_slug_for_view(user, slug)
        )
    return _space_page(request, space, tab, _coming_events(request, space))


def _coming_events(request: HttpRequest, space: Space) -> list[Event]:
    """The space's coming events the viewer may see. Most spaces have none: one small query
    says so, before the viewer's (costly to build) event conditions are asked."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM events_event WHERE space_id = %s AND ends_at > %s AND cancelled_at IS NULL LIMIT 1",
            [space.pk, timezone.now()],
        )
        if cur.fetchone() is None:
            return []
    return event_selectors.events_of_space(viewer=request.user, space_id=space.pk)


def _space_page(request: HttpRequest, space: Space, tab: str, events: list[Event]) -> HttpResponse:
    me_member = _viewer_member(request)
    moderator = me_member is not None and access.can_moderate(request.user, space)
    logged_in = access.is_authenticated(request.user)
    thread_list = None
    if logged_in and not moderator and not _has_unpublished_threads(space, me_member):
        # A reader who sees the published threads, like every other such reader: the list
        # is rendered once for all of them and kept under the space's version.
        key = pagecache.key(
            "threads", space.pk, space.version, space.thread_count, request.path, sorted(request.GET.lists())
        )
        thread_list = cache.get(key)
        if thread_list is None:
            thread_list = _thread_list(request, space, tab, None, logged_in=True)
            cache.set(key, thread_list, SPACE_PAGE_TTL)
    if thread_list is None:
        thread_list = _thread_list(request, space, tab, request.user, logged_in=logged_in)
    return render(
        request,
        "web/spaces/space_detail.html",
        {
            "space": space,
            "tab": tab,
            "tabs": TABS,
            "thread_list_html": mark_safe(thread_list),  # noqa: S308  # rendered by the template engine, escaped
            "membership": selectors.membership_of(space=space, member=me_member),
            "following": selectors.is_following(member=me_member, space=space),
            "can_moderate": moderator,
            "members": list(selectors.space_members(space=space)) if moderator else [],
            "invite_form": forms_spaces.InviteForm() if moderator else None,
            "events": events,
            "events_feed_url": calendar_links.space_feed_url(request.user, space),
            # The moderator check above, reused: can_create_event(space=...) would ask again.
            "can_create_event": logged_in
            and (moderator or access.can_create_event(request.user, frame=Frame.COMMUNITY, space=None)),
        },
    )


def _has_unpublished_threads(space: Space, me_member: Member | None) -> bool:
    """Whether the viewer started a thread in `space` that is held or rejected (their list shows it)."""
    if me_member is None:
        return False
    with connection.cursor() as cur:
        # By the author's index (a few threads), not the space's (thousands): "+" keeps
        # SQLite off the latter, and is a no-op on PostgreSQL.
        cur.execute(
            "SELECT 1 FROM spaces_thread WHERE author_id = %s AND +space_id = %s AND state <> %s LIMIT 1",
            [me_member.pk, space.pk, PostState.PUBLISHED.value],
        )
        return cur.fetchone() is not None


def _thread_list(request: HttpRequest, space: Space, tab: str, viewer: AnyUser | None, *, logged_in: bool) -> str:
    """The thread list of a space page with its pagination, as `viewer` sees it (None: the
    published threads, what a reader who moderates nothing and has nothing held sees)."""
    paginator = Paginator(selectors.space_threads(space=space, order=tab, viewer=viewer), THREADS_PER_PAGE)
    if tab != "unanswered":
        # Every thread of the space is listed: its counter says how many, no COUNT(*) over
        # them on every page view (services keep it; space_recount repairs it).
        paginator.count = space.thread_count  # the cached_property, set before it is read
    page = paginator.get_page(request.GET.get("page"))
    context = {"page_obj": page, "tab": tab, "space": space, "logged_in": logged_in, "request": request}
    return get_template("web/spaces/_thread_list.html").render(context)


@require_POST
def space_join(request: HttpRequest, slug: str) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    try:
        services.space_join(space=space, member=_member(me))
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"You joined {space.name}; you will hear about new threads in it.")
    return _back_to_space(space)


@require_POST
def space_leave(request: HttpRequest, slug: str) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    try:
        services.space_leave(space=space, member=_member(me))
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"You left {space.name}.")
    return _back_to_space(space)


@require_POST
def space_follow(request: HttpRequest, slug: str) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    on = services.follow_set(member=_member(me), on=request.POST.get("on") == "1", space=space)
    messages.success(request, f"You follow {space.name}." if on else f"You no longer follow {space.name}.")
    return _back_to_space(space)


def _find_member(me: User, raw: str) -> Member | None:
    """A member the viewer may see, by email or @handle."""
    raw = raw.strip()
    if "@" in raw.lstrip("@"):
        return people_selectors.member_find(viewer=me, email=raw)
    return access.visible_members(me).filter(handle=raw.lstrip("@").lower()).first()


@require_POST
def space_invite(request: HttpRequest, slug: str) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    access.require(access.can_moderate(me, space), "Only moderators may invite people")
    form = forms_spaces.InviteForm(request.POST)
    invitee = _find_member(me, form.cleaned_data["who"]) if form.is_valid() else None
    if invitee is None:
        messages.error(request, "Nobody you can see has this email address or @handle.")
        return _back_to_space(space)
    try:
        services.space_invite(space=space, member=invitee, by=_member(me))
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"{invitee.name} was invited.")
    return _back_to_space(space)


def _space_member(space: Space, member_id: int) -> Member:
    """A person in `space`'s member list (the moderator's page lists exactly these)."""
    membership = selectors.space_members(space=space).filter(member_id=member_id).first()
    if membership is None:
        raise not_found("No such member in this space")
    return membership.member


@require_POST
def space_member_role(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    access.require(access.can_moderate(me, space), "Only moderators may change roles")
    member = _space_member(space, member_id)
    role = request.POST.get("role", "")
    try:
        services.space_set_role(space=space, member=member, role=role, actor=me)
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"{member.name} is now a {SpaceRole(role).label.lower()} of {space.name}.")
    return _back_to_space(space)


@require_POST
def space_member_remove(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    access.require(access.can_moderate(me, space), "Only moderators may remove people")
    member = _space_member(space, member_id)
    services.space_remove_member(space=space, member=member, actor=me)
    messages.success(request, f"{member.name} was removed from {space.name}.")
    return _back_to_space(space)


@require_POST
def org_space_create(request: HttpRequest, org_id: int) -> HttpResponse:
    """One click on an organisation's page: its private space, with its people invited."""
    me = _viewer(request)
    org = access.organization_for_view(me, org_id)
    access.require(access.can_create_spaces(me), "Only admins and community managers may create spaces")
    try:
        space = services.account_space_create(organization=org, creator=_member(me), actor=me)
    except ApplicationError as err:
        messages.error(request, _say(err))
        return redirect("web:org_detail", org_id=org.pk)
    messages.success(request, f"{space.name} was created and {org.name}'s people were invited.")
    return _back_to_space(space)


# --- composing -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def thread_create(request: HttpRequest, slug: str) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    form = forms_spaces.ThreadForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            # Rendered and sanitised exactly as a post would be, and nothing is written.
            preview = markdown.render(data["body"])
        else:
            try:
                thread = services.thread_create(
                    space=space,
                    author=_member(me),
                    title=data["title"],
                    body=data["body"],
                    kind=data["kind"],
                    needs_staff=data["needs_staff"],
                )
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                return redirect("web:thread_detail", thread_id=thread.pk)
    membership = selectors.membership_of(space=space, member=access.viewer_member(me))
    return render(
        request,
        "web/spaces/compose.html",
        {"space": space, "form": form, "preview": preview, "membership": membership},
    )


# --- threads -------------------------------------------------------------------------------


def _post_rows(
    posts: list[Post], *, thread: Thread, me: Member | None, moderator: bool, first_page: bool
) -> list[PostRow]:
    rows = []
    may_accept = thread.kind == ThreadKind.QUESTION and me is not None and (moderator or thread.author_id == me.pk)
    for i, post in enumerate(posts):
        reactions = list(post.reactions.all())  # prefetched by the selector
        chips = [
            Chip(
                kind=k.value,
                emoji=k.label,
                name=REACTION_NAMES[k.value],
                count=sum(1 for r in reactions if r.kind == k.value),
                mine=me is not None and any(r.kind == k.value and r.member_id == me.pk for r in reactions),
            )
            for k in ReactionKind
        ]
        opening = first_page and i == 0
        mine = me is not None and post.author_id == me.pk
        rows.append(
            PostRow(
                post=post,
                chips=chips,
                is_opening=opening,
                can_edit=moderator or (mine and not thread.locked),
                can_accept=may_accept and not opening and thread.accepted_post_id != post.pk,
            )
        )
    return rows


@require_http_methods(["GET", "POST"])
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    """The conversation, and the reply form at the bottom (POST here to reply or preview)."""
    early = _read_with_session(
        request,
        lambda user_id, session: selectors.thread_and_reader_facts(
            user_id=user_id, thread_id=thread_id, session=session
        ),
    )
    if pagecache.for_visitor(request, ("page",)):
        # A visitor on a public space: one page for all, kept until the thread changes.
        stamp = pagecache.thread_stamp(thread_id)
        if stamp is not None:
            key = pagecache.key("thread", stamp, request.path, request.GET.get("page", ""))
            return pagecache.serve(request, key, lambda: _thread_detail(request, thread_id))
    return _thread_detail(request, thread_id, early=early)


def _thread_detail(
    request: HttpRequest,
    thread_id: int,
    *,
    share: bool = True,
    early: tuple[int, tuple[Thread, selectors.ReaderFacts | None] | None] | None = None,
) -> HttpResponse:
    user = request.user
    if share and isinstance(user, User) and _reader_page(request):
        # The thread and the reader's facts in one query (the permission gate's own query
        # only when the thread is not public), for the page kept for readers alike.
        found = (
            early[1]
            if early is not None and early[0] == user.pk
            else selectors.thread_and_reader_facts(user_id=user.pk, thread_id=thread_id)
        )
        thread, facts = found if found is not None else (None, None)
        if thread is None or not access.is_public_thread(thread):
            thread = _readable(request, lambda: access.thread_for_view(user, thread_id))
        kept = _reader_thread_page(request, thread, facts)
        if kept is not None:
            return kept
    else:
        thread = access.public_thread_for_view_sql(thread_id) or _readable(
            request, lambda: access.thread_for_view(user, thread_id)
        )
    form = forms_spaces.ReplyForm(request.POST or None)
    preview = None
    parent: Post | None = None
    if request.method == "POST":
        me = _viewer(request)
        if form.is_valid():
            data = form.cleaned_data
            if data["parent"]:
                parent = access.post_for_view(me, data["parent"])
            if "preview" in request.POST:
                preview = markdown.render(data["body"])
            else:
                try:
                    post = services.post_reply(thread=thread, author=_member(me), body=data["body"], parent=parent)
                except ApplicationError as err:
                    forms.add_service_errors(form, err)
                else:
                    return HttpResponseRedirect(post_url(post))
    elif request.GET.get("reply_to", "").isdigit() and access.is_authenticated(user):
        # A stale or foreign reply_to only means "reply to the thread": the page still shows.
        candidate = access.visible_posts(user).filter(pk=int(request.GET["reply_to"]), thread=thread).first()
        if candidate is not None:
            parent = candidate
            form = forms_spaces.ReplyForm(initial={"parent": parent.pk})
    return _thread_page(request, thread, form, preview, parent)


def _thread_page(
    request: HttpRequest, thread: Thread, form: forms_spaces.ReplyForm, preview: str | None, parent: Post | None
) -> HttpResponse:
    user = request.user
    me_member = _viewer_member(request)
    moderator = me_member is not None and access.can_moderate(user, thread.space)
    logged_in = access.is_authenticated(user)
    shared = None
    idea_posts: list[PagePost] | None = None
    may_accept = thread.kind == ThreadKind.QUESTION and me_member is not None and thread.author_id == me_member.pk
    if logged_in and not moderator and not may_accept:
        # A reader like any other (see post_html.personalise): the posts rendered once for
        # all of them, made theirs, unless they have something held in this thread.
        shared = _shared_posts(request, thread, me_member)
    if shared is not None:
        page, posts_html, idea_posts = shared
        held: list[Post] = []
    else:
        page, posts_html = _own_posts(request, thread, me_member, moderator, logged_in)
        held = charter_selectors.held_posts_in_thread(thread_id=thread.pk, viewer=user) if logged_in else []
    accepted = access.post_for_view(user, thread.accepted_post_id) if thread.accepted_post_id else None
    return render(
        request,
        "web/spaces/thread_detail.html",
        {
            "thread": thread,
            "space": thread.space,
            "page_obj": page,
            "posts_html": posts_html,
            "accepted": accepted,
            "form": form,
            "preview": preview,
            "parent": parent,
            "can_moderate": moderator,
            "can_flag": moderator or (me_member is not None and me_member.pk == thread.author_id),
            "following": selectors.is_following(member=me_member, thread=thread),
            "membership": selectors.membership_of(space=thread.space, member=me_member),
            "left": MembershipState.LEFT,
            "held_posts": held,
            "viewer_member_id": me_member.pk if me_member is not None else None,
            "move_targets": list(charter_selectors.move_targets(viewer=user)) if held else [],
            # The page's posts for the feedback partial's "make an idea" list, kept with the
            # shared posts (none given: it reads them from page_obj's Post rows).
            "idea_posts": idea_posts,
        },
    )


def _own_posts(
    request: HttpRequest, thread: Thread, me_member: Member | None, moderator: bool, logged_in: bool
) -> tuple[Page[Post], SafeString]:
    """One page of the thread's posts rendered for this viewer alone."""
    page = Paginator(selectors.thread_page_posts(thread=thread, viewer=request.user), POSTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = _post_rows(
        list(page.object_list), thread=thread, me=me_member, moderator=moderator, first_page=page.number == 1
    )
    posts_html = render_posts(
        rows,
        accepted_post_id=thread.accepted_post_id,
        locked=thread.locked,
        logged_in=logged_in,
        page_number=page.number,
        # Only a logged-in viewer has forms on the posts; a visitor's page holds no token.
        csrf_token=get_token(request) if logged_in else "",
    )
    return page, posts_html


# Which of the thread's posts the viewer reacted to (and how), and whether they wrote one
# that is not published (held or rejected: then their page is not everybody's), asked as
# the partial index spaces_post_unpublished_idx's condition so SQLite uses it. A kept
# page reads the same with the reader's other facts (selectors.thread_and_reader_facts).
_VIEWER_MARKS = (
    "SELECT r.post_id, r.kind FROM spaces_reaction r JOIN spaces_post p ON p.id = r.post_id "
    "WHERE r.member_id = %s AND p.thread_id = %s "
    "UNION ALL SELECT * FROM (SELECT p.id, '' FROM spaces_post p "
    "WHERE p.thread_id = %s AND p.author_id = %s AND NOT (p.state = 'published') LIMIT 1) AS held"
)


def _viewer_marks(thread: Thread, member_id: int) -> dict[int, list[str]] | None:
    """The viewer's reactions in the thread by post id; None when they wrote a post there that
    is held or rejected (their page shows it, so it is their own)."""
    mine: dict[int, list[str]] = {}
    with connection.cursor() as cur:
        cur.execute(_VIEWER_MARKS, [member_id, thread.pk, thread.pk, member_id])
        for post_id, kind in cur.fetchall():
            if not kind:
                return None
            mine.setdefault(post_id, []).append(kind)
    return mine


# Posts as UTF-8: the page has emoji, so as str each character takes 4 bytes, and every
# copy, join and replace for each reader moved four times as much memory.
# They hold nothing of the reader's (the reactions' one form with the token is the page's:
# post_html.REACT_FORM), so they are also kept compressed (gzipped.py): in groups of
# POST_GROUP, which a reader with nothing of theirs in a group gets as they are kept, and
# each on its own, for the other posts of a group where one is the reader's.
class SharedPosts(NamedTuple):
    total: int  # the thread's posts
    number: int  # the page's
    ids: list[int]  # each post's id, in the page's order
    posts: list[gzipped.Deflated]  # each post of the page, its HTML in UTF-8, and compressed
    groups: list[gzipped.Deflated | None]  # each POST_GROUP posts, None if one holds CSRF_SLOT
    run: gzipped.Deflated | None  # all the groups as one part, None if one of them is None
    position: dict[int, int]  # post id: its place on the page
    by_author: dict[int, list[int]]  # author id: the places of their posts
    idea_posts: list[PagePost]  # the posts as the feedback partial lists them


POST_GROUP = 10
_CSRF = CSRF_SLOT.encode()


def _shared_entry(request: HttpRequest, thread: Thread) -> SharedPosts:
    """The page's published posts rendered for "any reader" (see _shared_posts), kept under
    the thread's version."""
    raw_page = request.GET.get("page", "")
    key = pagecache.key(
        "thread-posts-cut",
        thread.pk,
        thread.version,
        thread.locked,
        thread.accepted_post_id,
        thread.kind,
        request.path,
        raw_page,
    )
    entry: SharedPosts | None = pagecache.kept_get(key)
    if entry is None:
        # Published posts only: what shown_q lets such a reader see in this thread.
        page = Paginator(selectors.thread_page_posts(thread=thread, viewer=None), POSTS_PER_PAGE).get_page(raw_page)
        rows = _post_rows(list(page.object_list), thread=thread, me=None, moderator=False, first_page=page.number == 1)
        segments = render_post_list(
            rows,
            accepted_post_id=thread.accepted_post_id,
            locked=thread.locked,
            logged_in=True,
            page_number=page.number,
            csrf_token=CSRF_SLOT,
        )
        by_author: dict[int, list[int]] = {}
        for i, r in enumerate(rows):
            by_author.setdefault(r.post.author_id, []).append(i)
        encoded = [gzipped.deflate(segment.encode()) for segment in segments]
        groups: list[gzipped.Deflated | None] = []
        for start in range(0, len(encoded), POST_GROUP):
            text = b"".join(post.plain for post in encoded[start : start + POST_GROUP])
            groups.append(None if _CSRF in text else gzipped.deflate(text))
        entry = SharedPosts(
            total=page.paginator.count,
            number=page.number,
            ids=[r.post.pk for r in rows],
            posts=encoded,
            groups=groups,
            run=gzipped.concat([g for g in groups if g is not None]) if None not in groups else None,
            position={r.post.pk: i for i, r in enumerate(rows)},
            by_author=by_author,
            idea_posts=page_posts(r.post for r in rows),
        )
        pagecache.kept_set(key, entry, pagecache.TTL)
    return entry


def _personal_posts(
    entry: SharedPosts, thread: Thread, mine: dict[int, list[str]], me_pk: int | None, token: str
) -> list[gzipped.Part]:
    """The kept posts made the reader's, in parts to be joined with the rest of the page in
    one pass (gzipped.join or .plain): their reactions pressed, Edit on their own posts
    while the thread is open, and their CSRF `token` (escaped) where a post holds the slot.
    A group of posts with nothing of theirs is the kept, compressed one; in the others, the
    posts that are not theirs are, each on its own."""
    posts = entry.posts
    # The places of the posts that are theirs: reacted to, or theirs to edit.
    reacted = {entry.position[pk]: kinds for pk, kinds in mine.items() if kinds and pk in entry.position}
    own = set(entry.by_author.get(me_pk, ())) if me_pk is not None and not thread.locked else set()
    edit = _url_for("web:post_edit") if own else None
    mark = token.encode()
    touched = {i // POST_GROUP for i in (*reacted, *own)}
    if not touched and entry.run is not None:
        return [entry.run]  # nothing of theirs in the posts: all of them as kept
    parts: list[gzipped.Part] = []
    for g, group in enumerate(entry.groups):
        if group is not None and g not in touched:
            parts.append(group)
            continue
        for i in range(g * POST_GROUP, min((g + 1) * POST_GROUP, len(posts))):
            post = posts[i]
            if i in reacted or i in own:
                pk = entry.ids[i]
                url = edit(pk) if edit is not None and i in own else None
                text = personalise(post.plain.decode(), mine=reacted.get(i, ()), edit_url=url).encode()
                parts.append(text.replace(_CSRF, mark))
            elif _CSRF in post.plain:
                parts.append(post.plain.replace(_CSRF, mark))
            else:
                parts.append(post)
    return parts


def _shared_posts(
    request: HttpRequest, thread: Thread, me_member: Member | None
) -> tuple[Page[Any], SafeString, list[PagePost]] | None:
    """The page's posts for a logged-in reader who neither moderates the space nor may accept
    answers here: rendered once for every such reader and kept (under the thread's version,
    which every reply, edit, reaction, accepted answer, lock and flag bumps), then made this
    reader's (their pressed reactions, Edit on their posts, their CSRF token). None when they
    have a held or rejected post in the thread: their page shows it, so it is their own.
    Also the page's posts as the feedback partial lists them (ids, authors, excerpts), kept
    with them so that nothing is read again for each reader."""
    mine: dict[int, list[str]] = {}
    if me_member is not None:
        marks = _viewer_marks(thread, me_member.pk)
        if marks is None:
            return None
        mine = marks
    entry = _shared_entry(request, thread)
    token = escape(get_token(request))
    posts = _personal_posts(entry, thread, mine, me_member.pk if me_member is not None else None, token)
    html = mark_safe(gzipped.plain(posts).decode())  # noqa: S308  # escaped in render_post_list
    return Paginator(range(entry.total), POSTS_PER_PAGE).get_page(entry.number), html, entry.idea_posts


# --- whole pages for readers alike -------------------------------------------------------------
# A logged-in reader who neither moderates the space, nor may accept answers in the thread,
# nor has anything held there, and who has no message waiting, sees the thread or space page
# every such reader sees, but for a few things of theirs: the top bar's corner (name, unread
# badge), their CSRF token, their reactions and Edit links in the posts, and on a private
# space their calendar feed's address. The rest depends on a few facts about them (follow,
# membership state, their staff role's links, whether the thread is theirs), which are part
# of the key. So the page is rendered once per such set of facts with slots where their own
# things go (below), kept under the thread's or space's version and shown fields, and filled
# for each reader: the same page as rendering it for them alone (tests compare the two).
# Access is decided before: the thread or space was read through the permission gate.

SLOT_USERNAV = "\x00usernav\x00"
SLOT_POSTS = "\x00posts\x00"
SLOT_IDEAS = "\x00ideas\x00"
SLOT_FEED = "\x00feed\x00"


def _read_with_session(request: HttpRequest, read: Callable[[int, sessions.SessionStore], T]) -> tuple[int, T] | None:
    """For a GET whose session this process has read before but this request has not yet
    (sessions.reader_of): `read` for the account it named then, which reads the session in
    the same query (one query, not two, on every logged-in page view): that account's id and
    what `read` gave. The page uses it only if the session still names that account."""
    if request.method not in ("GET", "HEAD"):
        return None
    session = getattr(request, "session", None)
    user_id = sessions.reader_of(session)
    if user_id is None or not isinstance(session, sessions.SessionStore):
        return None
    return user_id, read(user_id, session)


def _reader_page(request: HttpRequest) -> bool:
    """Whether this request may get a page kept for readers alike: a GET or HEAD by somebody
    logged in, with no parameter but the page's own, and no message waiting for them."""
    if request.method not in ("GET", "HEAD") or not access.is_authenticated(request.user):
        return False
    return len(messages.get_messages(request)) == 0  # len() looks without marking them read


def _role_links(user: AnyUser) -> tuple[bool, bool, bool]:
    """What of the viewer's staff role shows in the top bar's links (base.html)."""
    return (access.is_staff(user), access.can_merge(user), bool(getattr(user, "is_staff", False)))


_SLOTS = re.compile(
    b"(" + b"|".join(re.escape(s.encode()) for s in (SLOT_USERNAV, SLOT_POSTS, SLOT_IDEAS, SLOT_FEED, CSRF_SLOT)) + b")"
)


def _fill(
    request: HttpRequest,
    skeleton: list[gzipped.Part],
    facts: selectors.ReaderFacts,
    slots: dict[str, gzipped.Part],
    token: str,
    posts: list[gzipped.Part] | None = None,
) -> HttpResponse:
    """The kept page with this reader's things in its slots, their CSRF `token` (escaped),
    and in the posts' slot the parts of `posts` (_personal_posts); gzip-compressed from its
    kept compressed parts when the client takes it (gzipped.py)."""
    user = request.user
    unread = context_processors.unread_from(user, total=facts.unread, about_spaces=facts.unread_about_spaces)
    slots[SLOT_USERNAV] = context_processors.usernav(
        section=(request.resolver_match.url_name or "") if request.resolver_match is not None else "",
        unread=unread,
        member_id=facts.member_id,
        name=context_processors.viewer_name(user, facts.name),
        csrf_token=CSRF_SLOT,
    ).encode()
    # All in UTF-8 (see SharedPosts); the token is ASCII. The posts already hold it
    # (_personal_posts): 100 of them are most of the page, not to be searched again.
    csrf = CSRF_SLOT.encode()
    values: dict[bytes, gzipped.Part] = {
        slot.encode(): value if isinstance(value, gzipped.Deflated) else value.replace(csrf, token.encode())
        for slot, value in slots.items()
    }
    values[csrf] = token.encode()
    # The skeleton alternates kept text and slot names (_render_skeleton), and the posts
    # come in parts: the whole page is joined once.
    out: list[gzipped.Part] = []
    posts_slot = SLOT_POSTS.encode()
    for piece in skeleton:
        if isinstance(piece, gzipped.Deflated):
            out.append(piece)
        elif piece == posts_slot and posts is not None:
            out += posts
        else:
            out.append(values.get(piece, piece))
    return gzipped.response(request, out)


def _render_skeleton(request: HttpRequest, template: str, context: dict[str, Any]) -> list[gzipped.Part]:
    """The page rendered with slots for the reader's things (see above), cut at the slots:
    kept text (compressed: gzipped.deflate) and slot names in turn."""
    context = {**context, "usernav_slot": mark_safe(SLOT_USERNAV), "csrf_token": CSRF_SLOT}  # noqa: S308  # a constant
    pieces = _SLOTS.split(get_template(template).render(context, request).encode())
    # re.split puts the slot names it cut at at the odd places.
    return [piece if i % 2 or not piece else gzipped.deflate(piece) for i, piece in enumerate(pieces)]


class _KeptThreadPage:
    """A thread page kept for readers alike (below): the page cut at its slots, the ideas
    partial, and, held in this process only, the page's posts (_shared_entry) it was made
    with: the page's key holds all that theirs does, so a reader's view reads one kept entry,
    not two. The posts are not pickled with it (the cache keeps them once, on their own):
    read back from the cache, it has none, and they are read from theirs."""

    __slots__ = ("entry", "ideas", "skeleton")

    def __init__(self, skeleton: list[gzipped.Part], ideas: gzipped.Part, entry: SharedPosts | None) -> None:
        self.skeleton, self.ideas, self.entry = skeleton, ideas, entry

    def __getstate__(self) -> tuple[list[gzipped.Part], gzipped.Part, None]:
        return (self.skeleton, self.ideas, None)

    def __setstate__(self, state: tuple[list[gzipped.Part], gzipped.Part, None]) -> None:
        self.skeleton, self.ideas, self.entry = state


def _reader_thread_page(
    request: HttpRequest, thread: Thread, facts: selectors.ReaderFacts | None
) -> HttpResponse | None:
    """The thread page kept for readers alike, made this reader's (`facts`: theirs on it,
    selectors.thread_and_reader_facts); None when their page is their own (see above)."""
    user = request.user
    if not set(request.GET).issubset({"page"}):
        return None
    if not isinstance(user, User):
        return None
    if facts is None or access.moderates(user, role=facts.role, state=facts.state):
        return None
    if thread.kind == ThreadKind.QUESTION and thread.author_id == facts.member_id:
        return None  # the asker may accept answers
    if facts.held_posts:
        return None  # their page shows their held or rejected post
    mine = facts.reactions
    space = thread.space
    key = pagecache.key(
        "thread-page",
        # What the page shows of the thread and its space (the version covers the posts).
        access.field_values(thread),
        access.field_values(space),
        request.path,
        request.GET.get("page", ""),
        _role_links(user),
        facts.following,
        facts.state,
        thread.author_id == facts.member_id,
        facts.thread_has_ideas,
    )
    kept: _KeptThreadPage | None = pagecache.kept_get(key)
    if kept is None:
        entry = _shared_entry(request, thread)
        count, number, idea_posts = entry.total, entry.number, entry.idea_posts
        page = Paginator(range(count), POSTS_PER_PAGE).get_page(number)
        # The feedback partial as any logged-in reader sees it when no post is linked to an
        # idea (only the "make an idea" list, from the kept posts).
        ideas = get_template("web/feedback/_thread_ideas.html").render(
            {"thread": thread, "page_obj": page, "idea_posts": idea_posts, "request": request}
        )
        skeleton = _render_skeleton(
            request,
            "web/spaces/thread_detail.html",
            {
                "thread": thread,
                "space": space,
                "page_obj": page,
                "posts_html": mark_safe(SLOT_POSTS),  # noqa: S308  # a constant
                # Such a reader sees the accepted answer when it is published (post_for_view).
                "accepted": selectors.thread_posts(thread=thread)
                .filter(pk=thread.accepted_post_id, state=PostState.PUBLISHED)
                .first()
                if thread.accepted_post_id
                else None,
                "form": forms_spaces.ReplyForm(),
                "preview": None,
                "parent": None,
                "can_moderate": False,
                "can_flag": thread.author_id == facts.member_id,
                "following": facts.following,
                "membership": {"state": facts.state} if facts.state is not None else None,
                "left": MembershipState.LEFT,
                "held_posts": [],
                "viewer_member_id": facts.member_id,
                "move_targets": [],
                "idea_posts": idea_posts,
                "ideas_slot": mark_safe(SLOT_IDEAS),  # noqa: S308  # a constant
            },
        )
        encoded = ideas.encode()
        kept = _KeptThreadPage(skeleton, encoded if _CSRF in encoded else gzipped.deflate(encoded), entry)
        # Kept only if no post was linked to an idea meanwhile: the partial would show the
        # ideas this reader's boards let them see, to readers who may not.
        if not selectors.thread_has_idea_links(thread_id=thread.pk):
            pagecache.kept_set(key, kept, pagecache.TTL)
    skeleton, ideas_part = kept.skeleton, kept.ideas
    entry = kept.entry if kept.entry is not None else _shared_entry(request, thread)
    if facts.thread_has_ideas:
        # Some post is linked to an idea: which ideas this reader sees depends on their boards.
        count, number, idea_posts = entry.total, entry.number, entry.idea_posts
        ideas = get_template("web/feedback/_thread_ideas.html").render(
            {
                "thread": thread,
                "page_obj": Paginator(range(count), POSTS_PER_PAGE).get_page(number),
                "idea_posts": idea_posts,
                "request": request,
            }
        )
        ideas_part = ideas.encode()
    token = escape(get_token(request))
    posts = _personal_posts(entry, thread, mine, facts.member_id, token)
    return _fill(request, skeleton, facts, {SLOT_IDEAS: ideas_part}, token, posts)


def _reader_space_page(
    request: HttpRequest, space: Space, tab: str, facts: selectors.ReaderFacts | None
) -> HttpResponse | None:
    """The space page kept for readers alike, made this reader's (`facts`: theirs on it,
    selectors.space_and_reader_facts); None when their page is their own: they moderate it,
    started a thread there that is held, or it has coming events (which of them one sees
    depends on the viewer)."""
    user = request.user
    if not set(request.GET).issubset({"tab", "page"}):
        return None
    if not isinstance(user, User):
        return None
    if facts is None or facts.held_threads or facts.coming_events:
        return None
    if access.moderates(user, role=facts.role, state=facts.state):
        return None
    # A private space's calendar feed carries the reader's own token.
    personal_feed = space.visibility != Visibility.PUBLIC
    key = pagecache.key(
        "space-page",
        access.field_values(space),
        tab,
        request.path,
        tuple((name, tuple(values)) for name, values in sorted(request.GET.lists())),
        _role_links(user),
        facts.following,
        facts.state,
        access.can_create_event(user, frame=Frame.COMMUNITY, space=None),
    )
    skeleton: list[gzipped.Part] | None = pagecache.kept_get(key)
    if skeleton is None:
        skeleton = _render_skeleton(
            request,
            "web/spaces/space_detail.html",
            {
                "space": space,
                "tab": tab,
                "tabs": TABS,
                "thread_list_html": mark_safe(_thread_list(request, space, tab, None, logged_in=True)),  # noqa: S308  # rendered by the template engine, escaped
                "membership": {"state": facts.state} if facts.state is not None else None,
                "following": facts.following,
                "can_moderate": False,
                "members": [],
                "invite_form": None,
                "events": [],
                "events_feed_url": SLOT_FEED if personal_feed else calendar_links.space_feed_url(user, space),
                "can_create_event": access.can_create_event(user, frame=Frame.COMMUNITY, space=None),
            },
        )
        pagecache.kept_set(key, skeleton, SPACE_PAGE_TTL)
    slots: dict[str, gzipped.Part] = {}
    if personal_feed:
        slots[SLOT_FEED] = escape(calendar_links.space_feed_url(user, space) or "").encode()
    return _fill(request, skeleton, facts, slots, escape(get_token(request)))


@require_POST
def thread_moderate(request: HttpRequest, thread_id: int) -> HttpResponse:
    """Pin, lock, or flag as needing staff. The author may flag their own thread."""
    me = _viewer(request)
    thread = access.thread_for_view(me, thread_id)
    field = request.POST.get("field", "")
    if field not in {"pinned", "locked", "needs_staff"}:
        raise ApplicationError(ErrorCode.BAD_REQUEST, "Choose pin, lock or needs staff")
    moderator = access.can_moderate(me, thread.space)
    me_member = access.viewer_member(me)
    is_author = me_member is not None and me_member.pk == thread.author_id
    access.require(moderator or (field == "needs_staff" and is_author), "Only moderators may do this")
    value = request.POST.get("value") == "1"
    services.thread_moderate(thread=thread, actor=me, **{field: value})
    labels = {
        "pinned": ("Pinned", "Unpinned"),
        "locked": ("Locked", "Unlocked"),
        "needs_staff": ("Flagged", "Unflagged"),
    }
    messages.success(request, f"{labels[field][0 if value else 1]}: {thread.title}.")
    return redirect("web:thread_detail", thread_id=thread.pk)


@require_POST
def thread_follow(request: HttpRequest, thread_id: int) -> HttpResponse:
    me = _viewer(request)
    thread = access.thread_for_view(me, thread_id)
    on = services.follow_set(member=_member(me), on=request.POST.get("on") == "1", thread=thread)
    messages.success(request, "You follow this thread." if on else "You no longer follow this thread.")
    return redirect("web:thread_detail", thread_id=thread.pk)


# --- posts ---------------------------------------------------------------------------------


def post_link(request: HttpRequest, post_id: int) -> HttpResponse:
    """A permanent link to a post: the page of its thread that shows it."""
    post = _readable(request, lambda: access.post_for_view(request.user, post_id))
    return HttpResponseRedirect(post_url(post))


@require_POST
def post_react(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _viewer(request)
    post = access.post_for_view(me, post_id)
    try:
        services.reaction_toggle(post=post, member=_member(me), kind=request.POST.get("kind", ""))
    except ApplicationError as err:
        messages.error(request, _say(err))
    return HttpResponseRedirect(_safe_next(request, post_url(post)))


@require_POST
def post_accept(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _viewer(request)
    post = access.post_for_view(me, post_id)
    thread = post.thread
    try:
        services.answer_accept(
            thread=thread, post=post, by=_member(me), can_moderate=access.can_moderate(me, thread.space)
        )
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"Marked {post.author.name}'s reply as the answer.")
    return HttpResponseRedirect(post_url(post))


@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _viewer(request)
    post = access.post_for_change(me, post_id)
    form = forms_spaces.PostEditForm(request.POST or None, initial={"body": post.body})
    preview = None
    if request.method == "POST" and form.is_valid():
        body = form.cleaned_data["body"]
        if "preview" in request.POST:
            preview = markdown.render(body)
        else:
            try:
                services.post_edit(post=post, editor=_member(me), body=body)
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                messages.success(request, "Your changes were saved; the earlier text is kept in the history.")
                return HttpResponseRedirect(post_url(post))
    return render(
        request,
        "web/spaces/post_edit.html",
        {"post": post, "thread": post.thread, "space": post.thread.space, "form": form, "preview": preview},
    )


def post_history(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _readable(request, lambda: access.post_for_view(request.user, post_id))
    return render(
        request,
        "web/spaces/post_history.html",
        {
            "post": post,
            "thread": post.thread,
            "space": post.thread.space,
            "revisions": list(selectors.post_revisions(post=post)),
        },
    )
