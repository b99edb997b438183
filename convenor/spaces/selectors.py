"""Reads for spaces, threads and posts. Every query starts from what the viewer may read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from convenor.core import access, sql
from convenor.core.access import AnyUser
from convenor.core.models import Notification
from convenor.people.models import Member, Role
from convenor.spaces.models import (
    Follow,
    MembershipState,
    Post,
    PostRevision,
    PostState,
    Reaction,
    Space,
    SpaceMembership,
    Thread,
    ThreadKind,
    Visibility,
)

THREAD_ORDERS = {
    "latest": ["-pinned", "-last_post_at", "-pk"],
    "top": ["-pinned", "-reaction_count", "-reply_count", "-last_post_at"],
    "unanswered": ["-created_at", "-pk"],
}


def space_list(*, viewer: AnyUser, q: str = "", frame: str = "") -> QuerySet[Space]:
    qs = access.visible_spaces(viewer).filter(archived_at__isnull=True)
    if q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(description__icontains=q.strip()))
    if frame:
        qs = qs.filter(frame=frame)
    return qs.select_related("organization").order_by("name")


def membership_of(*, space: Space, member: Member | None) -> SpaceMembership | None:
    if member is None:
        return None
    return SpaceMembership.objects.filter(space=space, member=member).first()


def space_members(*, space: Space) -> QuerySet[SpaceMembership]:
    return (
        SpaceMembership.objects.filter(space=space, state__in=[MembershipState.ACTIVE, MembershipState.INVITED])
        .select_related("member")
        .order_by("-role", "member__name")
    )


def space_threads(*, space: Space, order: str = "latest", viewer: AnyUser | None = None) -> QuerySet[Thread]:
    """Threads of a space the viewer already may read: latest, top, or unanswered. Held
    threads only for their author and the space's moderators (published only without a viewer)."""
    qs = Thread.objects.filter(space=space).filter(
        access.shown_q(viewer) if viewer is not None else Q(state=PostState.PUBLISHED)
    )
    if order == "unanswered":
        qs = qs.filter(reply_count=0)
    return qs.select_related("author").order_by(*THREAD_ORDERS.get(order, THREAD_ORDERS["latest"]))


def _shown_posts(thread: Thread, viewer: AnyUser | None) -> QuerySet[Post]:
    shown = access.shown_q(viewer, space="thread__space") if viewer is not None else Q(state=PostState.PUBLISHED)
    return Post.objects.filter(shown, thread=thread)


def thread_posts(*, thread: Thread, viewer: AnyUser | None = None) -> QuerySet[Post]:
    """The posts of a thread the viewer already may read; held ones only for their author and
    the space's moderators (published only without a viewer)."""
    return (
        _shown_posts(thread, viewer)
        .select_related("author", "author__user", "parent", "parent__author")
        .prefetch_related(Prefetch("reactions", queryset=Reaction.objects.only("post_id", "kind", "member_id")))
        .order_by("created_at", "pk")
    )


def opening_post(*, thread: Thread) -> Post | None:
    """The first post of a thread the viewer already may read."""
    return Post.objects.filter(thread=thread).select_related("thread").order_by("created_at", "pk").first()


def thread_page_posts(*, thread: Thread, viewer: AnyUser | None = None) -> QuerySet[Post]:
    """The posts of a thread as its page shows them: only the columns it needs (not the
    Markdown source nor the plain text), with author, replied-to author and reactions."""
    return (
        _shown_posts(thread, viewer)
        .select_related("author", "parent", "parent__author")
        .only(
            "id",
            "thread_id",
            "author_id",
            "parent_id",
            "html",
            "by_staff",
            "created_at",
            "edited_at",
            "reaction_count",
            "state",
            "author__id",
            "author__name",
            "parent__id",
            "parent__author_id",
            "parent__author__id",
            "parent__author__name",
        )
        .prefetch_related(Prefetch("reactions", queryset=Reaction.objects.only("post_id", "kind", "member_id")))
        .order_by("created_at", "pk")
    )


def is_following(*, member: Member | None, space: Space | None = None, thread: Thread | None = None) -> bool:
    if member is None:
        return False
    return Follow.objects.filter(member=member, space=space, thread=thread).exists()


# --- staff queues ---------------------------------------------------------------------------


def queue_unanswered(*, viewer: AnyUser) -> QuerySet[Thread]:
    """Threads nobody has replied to, oldest first: they have waited longest."""
    return (
        access.visible_threads(viewer)
        .filter(reply_count=0, locked=False, state=PostState.PUBLISHED)
        .select_related("space", "author")
        .order_by("created_at")
    )


def queue_needs_staff(*, viewer: AnyUser) -> QuerySet[Thread]:
    """Threads flagged as needing staff, and questions without an accepted answer, that no
    employee has replied to yet."""
    return (
        access.visible_threads(viewer)
        .filter(Q(needs_staff=True) | Q(kind=ThreadKind.QUESTION, accepted_post__isnull=True))
        .filter(staff_reply_count=0, locked=False, state=PostState.PUBLISHED)
        .select_related("space", "author")
        .order_by("created_at")
    )


def queue_customer_answers(*, viewer: AnyUser) -> QuerySet[Post]:
    """Replies by customers to other customers' threads: the community helping itself."""
    author_is_customer = Q(author__role=Role.CUSTOMER)
    asker_is_customer = Q(thread__author__role=Role.CUSTOMER)
    return (
        access.visible_posts(viewer)
        .filter(author_is_customer, asker_is_customer, state=PostState.PUBLISHED)
        .exclude(author=F("thread__author"))
        .select_related("thread", "thread__space", "author", "thread__author")
        .order_by("-created_at")
    )


# --- notifications --------------------------------------------------------------------------


def notifications_visible(*, user: AnyUser) -> QuerySet[Notification]:
    """The user's notifications, less those about spaces they can no longer read."""
    if not access.is_authenticated(user):
        return Notification.objects.none()
    hidden_space = Q(place_kind="space") & ~Q(place_id__in=access.visible_spaces(user).values("pk"))
    return Notification.objects.filter(recipient_id=user.pk).exclude(hidden_space).order_by("-created_at", "-id")


# --- for the JSON API -----------------------------------------------------------------------


def memberships_by_space(*, member: Member | None) -> dict[int, SpaceMembership]:
    """All of a member's memberships keyed by space id: one query for a whole list of spaces."""
    if member is None:
        return {}
    return {m.space_id: m for m in SpaceMembership.objects.filter(member=member)}


def post_revisions(*, post: Post) -> QuerySet[PostRevision]:
    """Earlier texts of a post the viewer already may read, newest first."""
    return PostRevision.objects.filter(post=post).select_related("edited_by").order_by("-replaced_at", "-pk")


def reaction_count(*, post: Post, kind: str) -> int:
    return Reaction.objects.filter(post=post, kind=kind).count()


def notifications_unread_count(*, user: AnyUser) -> int:
    """Unread notifications the user may still see (those about spaces they lost are left out)."""
    return notifications_visible(user=user).filter(read_at__isnull=True).count()


# --- pages ----------------------------------------------------------------------------------


def account_space_of(*, organization_id: int) -> Space | None:
    """The private space of a customer organisation, if it has one."""
    return Space.objects.filter(visibility=Visibility.ACCOUNT, organization_id=organization_id).first()


def post_position(*, post: Post) -> int:
    """How many posts of its thread come before `post` (0 for the opening post)."""
    earlier = Q(created_at__lt=post.created_at) | Q(created_at=post.created_at, pk__lt=post.pk)
    return Post.objects.filter(earlier, thread_id=post.thread_id).count()


def member_recent_posts(*, viewer: AnyUser, member: Member, limit: int = 10) -> list[Post]:
    """The latest posts by `member` in spaces the viewer may read."""
    return list(
        access.visible_posts(viewer)
        .filter(author=member)
        .select_related("thread", "thread__space")
        .order_by("-created_at", "-pk")[:limit]
    )


# --- a logged-in reader of a thread or space page, in one query ------------------------------


@dataclass(frozen=True)
class ReaderFacts:
    """What a thread or space page needs to know about its logged-in viewer, besides what
    they may read (asked first, through the permission gate)."""

    member_id: int
    name: str
    # Their membership of the space (role and state), None when they have none.
    role: str | None
    state: str | None
    following: bool
    # Their unread notifications, and how many of those are about a space.
    unread: int
    unread_about_spaces: int
    # Thread page: whether any post of the thread is linked to an idea (feedback).
    thread_has_ideas: bool
    # Space page: whether they started a thread there that is held or rejected, and whether
    # the space has coming events (their list depends on the viewer).
    held_threads: bool
    coming_events: bool
    # Thread page: whether they wrote a post of the thread that is held or rejected (their
    # page shows it, so it is their own), and their reactions in it by post id.
    held_posts: bool = False
    reactions: dict[int, list[str]] = field(default_factory=dict)


# Scalar subqueries on the member's row, each by an index: what membership_of, is_following,
# the unread badge (core_notif_unread_idx), feedback's thread_ideas, _has_unpublished_threads
# and the coming-events check asked in as many ORM queries. "+space_id" keeps SQLite on the
# author's index (a few threads), not the space's (thousands); a no-op on PostgreSQL.
_READER_FACTS = """
SELECT {tag}m.id, m.name,
  (SELECT sm.role FROM spaces_spacemembership sm WHERE sm.space_id = {space} AND sm.member_id = m.id),
  (SELECT sm.state FROM spaces_spacemembership sm WHERE sm.space_id = {space} AND sm.member_id = m.id),
  CASE WHEN EXISTS (SELECT 1 FROM spaces_follow f WHERE f.member_id = m.id AND {follow}) THEN 1 ELSE 0 END,
  (SELECT COUNT(*) FROM core_notification n WHERE n.recipient_id = %(user)s AND n.read_at IS NULL),
  (SELECT COUNT(*) FROM core_notification n
   WHERE n.recipient_id = %(user)s AND n.read_at IS NULL AND n.place_kind = 'space'),
  {ideas},
  {held},
  {events}{more}
FROM {source}
"""
# The thread page's held check is written as the partial index spaces_post_unpublished_idx's
# condition (NOT (state = 'published')), so SQLite reads that small index, not the thread's
# posts. The reader's reactions in the thread follow the facts' row, tagged 2 in its first
# column (the facts' row is tagged 1), in the same statement, padded with NULLs for the
# thread's and its space's columns that the facts' row carries (thread_and_reader_facts).
_REACTIONS = """UNION ALL
SELECT 2, r.post_id, r.kind, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL{padding}
FROM spaces_reaction r JOIN spaces_post p ON p.id = r.post_id
WHERE r.member_id = (SELECT m.id FROM people_member m WHERE m.user_id = %(user)s) AND p.thread_id = %(thread)s
"""


def _thread_page_sql(session: PageSession | None) -> str:
    """The thread with its space, and the reader's facts on its page (thread_and_reader_facts);
    and the reader's `session` when given (PageSession.joined_sql)."""
    parts = ((Thread, "t"), (Space, "s"))
    session_columns, session_joins, session_count = session.joined_sql() if session is not None else ("", "", 0)
    return _READER_FACTS.format(  # our own SQL, no values
        tag="1, ",
        space="t.space_id",
        follow="f.space_id IS NULL AND f.thread_id = %(thread)s",
        ideas="CASE WHEN EXISTS (SELECT 1 FROM feedback_ideasource i "
        "WHERE i.thread_id = %(thread)s AND i.post_id IS NOT NULL) THEN 1 ELSE 0 END",
        held="CASE WHEN EXISTS (SELECT 1 FROM spaces_post p WHERE p.thread_id = %(thread)s "
        "AND p.author_id = m.id AND NOT (p.state = 'published')) THEN 1 ELSE 0 END",
        events="0",
        more=", " + access.row_columns(*parts) + (", " + session_columns if session is not None else ""),
        source="spaces_thread t JOIN spaces_space s ON s.id = t.space_id "
        f"LEFT JOIN people_member m ON m.user_id = %(user)s{session_joins} WHERE t.id = %(thread)s",
    ) + _REACTIONS.format(
        padding=", NULL" * (sum(len(model._meta.concrete_fields) for model, _ in parts) + session_count)
    )


def _space_page_sql(session: PageSession | None) -> str:
    """The space found by its slug, and the reader's facts on its page (space_and_reader_facts);
    and the reader's `session` when given (PageSession.joined_sql)."""
    session_columns, session_joins, _ = session.joined_sql() if session is not None else ("", "", 0)
    return _READER_FACTS.format(  # our own SQL, no values
        tag="",
        space="s.id",
        follow="f.space_id = s.id AND f.thread_id IS NULL",
        ideas="0",
        held="CASE WHEN EXISTS (SELECT 1 FROM spaces_thread t "
        "WHERE t.author_id = m.id AND +t.space_id = s.id AND t.state <> 'published') THEN 1 ELSE 0 END",
        events="CASE WHEN EXISTS (SELECT 1 FROM events_event e "
        "WHERE e.space_id = s.id AND e.ends_at > %(now)s AND e.cancelled_at IS NULL) THEN 1 ELSE 0 END",
        more=", " + access.row_columns((Space, "s")) + (", " + session_columns if session is not None else ""),
        source=f"spaces_space s LEFT JOIN people_member m ON m.user_id = %(user)s{session_joins} "
        "WHERE s.slug = %(slug)s",
    )


class PageSession(Protocol):
    """A request's session not read yet, read in a page's own query (thread_and_reader_facts):
    convenor.web.sessions.SessionStore."""

    def joined_sql(self) -> tuple[str, str, int]:
        """The session's columns, the joins to add to the query's FROM clause, how many columns."""
        ...

    def joined_params(self) -> dict[str, Any]:
        """The joins' parameters (besides ``user``, the account's id)."""
        ...

    def take(self, user_id: int, row: tuple[Any, ...]) -> None:
        """The session's columns as read for the account `user_id`."""
        ...


# Each made once per database vendor (the columns are quoted by it), with and without the session.
_PAGE_SQL: dict[tuple[str, bool, str], str] = {}


def _page_sql(build: Callable[[PageSession | None], str], session: PageSession | None) -> str:
    key = (build.__name__, session is not None, connection.vendor)
    found = _PAGE_SQL.get(key)
    if found is None:
        found = _PAGE_SQL[key] = build(session)
    return found


def thread_and_reader_facts(
    *, user_id: int, thread_id: int, session: PageSession | None = None
) -> tuple[Thread, ReaderFacts | None] | None:
    """The thread `thread_id` (its space loaded), whoever may read it, and the facts above for
    the user `user_id` on its page (None when they have no member profile): one query for
    both. None when there is no such thread. The caller decides whether the user may read it
    (as access.public_thread_for_view_sql or access.thread_for_view do). With the request's
    `session` not read yet, for the account it named before (convenor.web.sessions.reader_of):
    read in the same query, and given to it (PageSession.take) when the thread is found."""
    params: dict[str, Any] = {"user": user_id, "thread": thread_id}
    if session is not None:
        params.update(session.joined_params())
    row, reactions = _facts_row(sql.fetch(_page_sql(_thread_page_sql, session), params))
    if row is None:
        return None
    thread, space = access.row_instances(tuple(row[_FACT_COLUMNS:]), (Thread, "t"), (Space, "s"))
    access.with_space(thread, space)
    if session is not None:
        session.take(user_id, row[_FACT_COLUMNS + _THREAD_PAGE_COLUMNS :])
    facts = None if row[0] is None else _facts(row, thread_page=True, reactions=reactions)
    return thread, facts


def space_and_reader_facts(
    *, user_id: int, slug: str, session: PageSession | None = None
) -> tuple[Space, ReaderFacts | None] | None:
    """The space `slug`, whoever may read it, and the facts above for the user `user_id` on
    its page (None when they have no member profile): one query for both, as
    thread_and_reader_facts (and the `session` too, as there). None when there is no such space."""
    params = {
        "user": user_id,
        "slug": slug,
        "now": timezone.now(),
        **(session.joined_params() if session is not None else {}),
    }
    row = sql.fetch(_page_sql(_space_page_sql, session), params, one=True)
    if row is None:
        return None
    (space,) = access.row_instances(tuple(row[_FACT_COLUMNS:]), (Space, "s"))
    if session is not None:
        session.take(user_id, tuple(row[_FACT_COLUMNS + len(Space._meta.concrete_fields) :]))
    return space, None if row[0] is None else _facts(tuple(row), thread_page=False)


# The facts' columns, before a thread's or space's (thread_and_reader_facts, space_and_reader_facts).
_FACT_COLUMNS = 10
# The thread's and its space's columns on the thread page's row, before the session's.
_THREAD_PAGE_COLUMNS = len(Thread._meta.concrete_fields) + len(Space._meta.concrete_fields)


def _facts_row(rows: list[tuple[Any, ...]]) -> tuple[tuple[Any, ...] | None, dict[int, list[str]]]:
    """The facts' row (tagged 1, its tag taken off) and the reactions (tagged 2) by post id."""
    row = None
    reactions: dict[int, list[str]] = {}
    for tagged in rows:
        if tagged[0] == 1:
            row = tuple(tagged[1:])
        else:
            reactions.setdefault(int(tagged[1]), []).append(str(tagged[2]))
    return row, reactions


def _facts(row: tuple[Any, ...], *, thread_page: bool, reactions: dict[int, list[str]] | None = None) -> ReaderFacts:
    return ReaderFacts(
        member_id=int(row[0]),
        name=str(row[1]),
        role=row[2],
        state=row[3],
        following=bool(row[4]),
        unread=int(row[5]),
        unread_about_spaces=int(row[6]),
        thread_has_ideas=bool(row[7]),
        held_threads=False if thread_page else bool(row[8]),
        coming_events=False if thread_page else bool(row[9]),
        held_posts=bool(row[8]) if thread_page else False,
        reactions=reactions or {},
    )


def thread_has_idea_links(*, thread_id: int) -> bool:
    """Whether any post of the thread is linked to an idea (feedback), whoever may see it."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM feedback_ideasource WHERE thread_id = %s AND post_id IS NOT NULL LIMIT 1", [thread_id]
        )
        return cur.fetchone() is not None
