"""Reads for spaces, threads and posts. Every query starts from what the viewer may read."""

from __future__ import annotations

from django.db.models import F, Prefetch, Q, QuerySet

from convenor.core import access
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
