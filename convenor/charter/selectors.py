"""Reads for the charter: the moderation queue, held posts, the measured false-positive rate,
and the commercial-leakage report. Counting is done in SQL, never by looping over rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.spaces.models import (
    CharterCheck,
    Decision,
    Frame,
    MembershipState,
    ModerationDecision,
    Post,
    PostState,
    Space,
)


def moderated_spaces(*, viewer: AnyUser) -> QuerySet[Space]:
    """The community spaces whose held posts `viewer` decides on (admins: all of them)."""
    spaces = access.visible_spaces(viewer).filter(frame=Frame.COMMUNITY)
    if access.has_role(viewer, access.SPACE_ADMINS):
        return spaces
    me = access.viewer_member(viewer)
    if me is None:
        return Space.objects.none()
    return spaces.filter(pk__in=access._moderated_space_ids(me).values("pk"))


def moderation_queue(*, viewer: AnyUser, space: Space | None = None) -> QuerySet[Post]:
    """Held posts waiting for a decision in the spaces `viewer` moderates; those whose author
    asked for a review first, then the oldest."""
    qs = Post.objects.filter(state=PostState.HELD, thread__space__in=moderated_spaces(viewer=viewer).values("pk"))
    if space is not None:
        qs = qs.filter(thread__space=space)
    return qs.select_related("thread", "thread__space", "author", "charter_check").order_by(
        F("charter_check__review_requested_at").asc(nulls_last=True), "created_at", "pk"
    )


def held_posts_in_thread(*, thread_id: int, viewer: AnyUser) -> list[Post]:
    """The held and rejected posts of a thread that `viewer` sees (their own; all, for moderators)."""
    return list(
        access.visible_posts(viewer)
        .filter(thread_id=thread_id, state__in=[PostState.HELD, PostState.REJECTED])
        .select_related("charter_check", "thread")
        .prefetch_related("moderation_decisions")
        .order_by("created_at", "pk")
    )


def move_targets(*, viewer: AnyUser) -> QuerySet[Space]:
    """Commercial spaces `viewer` may post in: a held post can move to one of them."""
    me = access.viewer_member(viewer)
    spaces = access.visible_spaces(viewer).filter(frame=Frame.COMMERCIAL, archived_at__isnull=True)
    if me is not None:
        gone = Space.objects.filter(
            memberships__member=me, memberships__state__in=[MembershipState.LEFT, MembershipState.REMOVED]
        )
        spaces = spaces.exclude(pk__in=gone.values("pk"))
    return spaces.order_by("name")


@dataclass(frozen=True, slots=True)
class Rate:
    """The false-positive rate measured from moderators' decisions: approved held posts over
    all decided held posts (a moved post counts as a true positive: it was commercial)."""

    approved: int
    decided: int

    @property
    def value(self) -> float | None:
        return self.approved / self.decided if self.decided else None

    def describe(self) -> str:
        if not self.decided:
            return "no decisions yet"
        return f"{self.value:.1%} ({self.approved} of {self.decided} decided held posts approved)"


def _rate(decisions: QuerySet[ModerationDecision]) -> Rate:
    counts = decisions.aggregate(approved=Count("pk", filter=Q(decision=Decision.APPROVE)), decided=Count("pk"))
    return Rate(approved=counts["approved"], decided=counts["decided"])


def false_positive_rate(*, spaces: QuerySet[Space] | None = None) -> Rate:
    decisions = ModerationDecision.objects.all()
    if spaces is not None:
        decisions = decisions.filter(space__in=spaces.values("pk"))
    return _rate(decisions)


@dataclass
class MonthRow:
    month: date
    held: int = 0
    approved: int = 0
    rejected: int = 0
    moved: int = 0

    @property
    def rate(self) -> Rate:
        return Rate(approved=self.approved, decided=self.approved + self.rejected + self.moved)


@dataclass
class SpaceReport:
    space: Space
    months: list[MonthRow] = field(default_factory=list)
    total: MonthRow | None = None
    members: list[dict[str, object]] = field(default_factory=list)
    organizations: list[dict[str, object]] = field(default_factory=list)


def leakage_report(*, viewer: AnyUser, top: int = 5) -> list[SpaceReport]:
    """Per community space the viewer may read and by month: posts held, approved, rejected
    and moved, the measured false-positive rate, and whose posts are held most."""
    spaces = list(access.visible_spaces(viewer).filter(frame=Frame.COMMUNITY).order_by("name"))
    ids = [s.pk for s in spaces]
    checks = CharterCheck.objects.filter(post__thread__space__in=ids)
    held = (
        checks.annotate(month=TruncMonth("checked_at")).values("post__thread__space", "month").annotate(n=Count("pk"))
    )
    # Held posts that moved to a commercial space are counted in the space they were held in.
    moved_held = (
        ModerationDecision.objects.filter(space__in=ids, decision=Decision.MOVE)
        .exclude(post__thread__space__in=ids)
        .annotate(month=TruncMonth("post__charter_check__checked_at"))
        .values("space", "month")
        .annotate(n=Count("pk"))
    )
    decided = (
        ModerationDecision.objects.filter(space__in=ids)
        .annotate(month=TruncMonth("created_at"))
        .values("space", "month", "decision")
        .annotate(n=Count("pk"))
    )
    rows: dict[tuple[int, date], MonthRow] = {}

    def row(space_id: int, month: object) -> MonthRow:
        day = month.date() if hasattr(month, "date") else month
        assert isinstance(day, date)
        return rows.setdefault((space_id, day), MonthRow(month=day))

    for h in held:
        row(h["post__thread__space"], h["month"]).held += h["n"]
    for h in moved_held:
        row(h["space"], h["month"]).held += h["n"]
    for d in decided:
        r = row(d["space"], d["month"])
        setattr(r, {"approve": "approved", "reject": "rejected", "move": "moved"}[d["decision"]], d["n"])
    held_posts = Post.objects.filter(
        Q(thread__space__in=ids) | Q(moderation_decisions__space__in=ids), charter_check__isnull=False
    ).distinct()
    reports = []
    for space in spaces:
        months = sorted((r for (sid, _m), r in rows.items() if sid == space.pk), key=lambda r: r.month, reverse=True)
        total = MonthRow(month=date.today())
        for r in months:
            total.held += r.held
            total.approved += r.approved
            total.rejected += r.rejected
            total.moved += r.moved
        in_space = held_posts.filter(
            Q(thread__space=space) | Q(moderation_decisions__space=space, moderation_decisions__decision=Decision.MOVE)
        )
        members = list(
            Post.objects.filter(pk__in=in_space.values("pk"))
            .values("author", "author__name")
            .annotate(n=Count("pk"))
            .order_by("-n", "author__name")[:top]
        )
        orgs = list(
            Post.objects.filter(
                pk__in=in_space.values("pk"),
                author__affiliations__ended_on__isnull=True,
                author__affiliations__organization__isnull=False,
            )
            .values("author__affiliations__organization", "author__affiliations__organization__name")
            .annotate(n=Count("pk", distinct=True))
            .order_by("-n", "author__affiliations__organization__name")[:top]
        )
        reports.append(
            SpaceReport(
                space=space,
                months=months,
                total=total,
                members=[{"id": m["author"], "name": m["author__name"], "held": m["n"]} for m in members],
                organizations=[
                    {
                        "id": o["author__affiliations__organization"],
                        "name": o["author__affiliations__organization__name"],
                        "held": o["n"],
                    }
                    for o in orgs
                ],
            )
        )
    return reports
