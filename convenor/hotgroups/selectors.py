"""Reads for hot groups: topics, suggestions, groups and their health."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from convenor.events.models import Event, Registration, RegistrationState
from convenor.hotgroups.models import (
    LIVE_STATES,
    Group,
    GroupMember,
    GroupMemberState,
    Spread,
    Suggestion,
    SuggestionMember,
    SuggestionStatus,
    Topic,
)
from convenor.hotgroups.profiles import current_model
from convenor.people.models import Member


def topics() -> QuerySet[Topic]:
    """The current model's topics, most held first (none before the first profile run)."""
    model = current_model()
    if model is None:
        return Topic.objects.none()
    return (
        Topic.objects.filter(model=model)
        .annotate(open_suggestions=Count("suggestions", filter=Q(suggestions__status=SuggestionStatus.OPEN)))
        .order_by("-holders", "index")
    )


def suggestion_list(*, topic_id: int | None = None, status: str = "") -> QuerySet[Suggestion]:
    qs = Suggestion.objects.select_related("topic").annotate(size=Count("members"))
    if topic_id is not None:
        qs = qs.filter(topic_id=topic_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-score", "-id")


def suggestion_people(suggestion: Suggestion) -> list[SuggestionMember]:
    return list(
        SuggestionMember.objects.filter(suggestion=suggestion)
        .select_related("member", "organization")
        .order_by("-connector", "-ratio", "member__name")
    )


def suggestion_ties(suggestion: Suggestion) -> set[tuple[int, int]]:
    """Pairs among the suggestion's people already joined on the map."""
    from convenor.graph import selectors as graph

    ids = list(SuggestionMember.objects.filter(suggestion=suggestion).values_list("member_id", flat=True))
    try:
        return graph.connected_pairs(ids)
    except NotImplementedError:
        return set()


def group_people(group: Group) -> list[GroupMember]:
    return list(
        GroupMember.objects.filter(group=group)
        .select_related("member")
        .order_by("-facilitator", "state", "member__name")
    )


def membership_of(group: Group, member: Member | None) -> GroupMember | None:
    if member is None:
        return None
    return GroupMember.objects.filter(group=group, member=member).first()


def group_list(groups: QuerySet[Group]) -> QuerySet[Group]:
    return groups.select_related("facilitator", "space").annotate(
        live=Count("memberships", filter=Q(memberships__state=GroupMemberState.ACTIVE), distinct=True),
        invited=Count("memberships", filter=Q(memberships__state=GroupMemberState.INVITED), distinct=True),
    )


@dataclass
class Gathering:
    event: Event
    confirmed: int
    attended: int
    members: int

    @property
    def rate(self) -> float:
        return self.attended / self.members if self.members else 0.0


@dataclass
class Health:
    """A group's health: attendance over time, activity in its space, ties formed, spread."""

    gatherings: list[Gathering]
    upcoming: list[Event]
    weekly_posts: list[tuple[datetime, int]]
    posts: int
    members: int
    invited: int
    pairs_then: int
    pairs_now: int
    pairs_total: int
    neighbours_then: int
    neighbours_now: int
    spreads: list[Spread] = field(default_factory=list)

    @property
    def new_pairs(self) -> int:
        return max(0, self.pairs_now - self.pairs_then)

    @property
    def new_neighbours(self) -> int:
        return max(0, self.neighbours_now - self.neighbours_then)

    def as_dict(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "invited": self.invited,
            "gatherings": [
                {
                    "event_id": g.event.pk,
                    "starts_at": g.event.starts_at.isoformat(),
                    "confirmed": g.confirmed,
                    "attended": g.attended,
                    "members": g.members,
                }
                for g in self.gatherings
            ],
            "upcoming": [e.starts_at.isoformat() for e in self.upcoming],
            "posts": self.posts,
            "weekly_posts": [{"week": w.date().isoformat(), "posts": n} for w, n in self.weekly_posts],
            "ties": {
                "pairs": self.pairs_total,
                "connected_at_convening": self.pairs_then,
                "connected_now": self.pairs_now,
                "new_among_members": self.new_pairs,
                "neighbours_at_convening": self.neighbours_then,
                "neighbours_now": self.neighbours_now,
                "new_beyond": self.new_neighbours,
            },
            "spread": [
                {
                    "event_id": s.event_id,
                    "treated": s.treated,
                    "controls": s.controls,
                    "lift": s.lift,
                    "ci_low": s.ci_low,
                    "ci_high": s.ci_high,
                    "complete": s.complete,
                }
                for s in self.spreads
            ],
        }


def group_health(group: Group, *, now: datetime | None = None, weeks: int = 26) -> Health:
    from convenor.graph import selectors as graph
    from convenor.spaces.models import Post, PostState

    now = now or timezone.now()
    events = (
        list(Event.objects.filter(series_id=group.series_id, cancelled_at__isnull=True).order_by("starts_at"))
        if group.series_id
        else []
    )
    past = [e for e in events if e.starts_at <= now]
    regs = Counter(
        Registration.objects.filter(event__in=past, state=RegistrationState.CONFIRMED).values_list(
            "event_id", flat=True
        )
    )
    came = Counter(
        Registration.objects.filter(event__in=past, attended_at__isnull=False).values_list("event_id", flat=True)
    )
    joined = list(
        GroupMember.objects.filter(group=group, state=GroupMemberState.ACTIVE).values_list("responded_at", flat=True)
    )
    gatherings = [
        Gathering(
            event=e,
            confirmed=regs[e.pk],
            attended=came[e.pk],
            members=sum(1 for j in joined if j is None or j <= e.starts_at),
        )
        for e in past
    ]
    start = max(group.created_at, now - timedelta(weeks=weeks))
    start = (start - timedelta(days=start.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    times = (
        list(
            Post.objects.filter(
                thread__space=group.space, state=PostState.PUBLISHED, created_at__gte=start
            ).values_list("created_at", flat=True)
        )
        if group.space_id
        else []
    )
    weekly: list[tuple[datetime, int]] = []
    week = start
    while week <= now:
        nxt = week + timedelta(days=7)
        weekly.append((week, sum(1 for t in times if week <= t < nxt)))
        week = nxt
    live = list(GroupMember.objects.filter(group=group, state__in=LIVE_STATES).values_list("member_id", "state"))
    ids = [m for m, _ in live]
    base = group.baseline or {}
    then_ids = set(base.get("member_ids", []))
    pairs_then = len(base.get("pairs", []))
    pairs_now = neighbours_now = 0
    try:
        if graph.map_built_at() is not None:
            # Compare the same people: those there at convening who are still in.
            same = [m for m in ids if m in then_ids] or ids
            pairs_now = len(graph.connected_pairs(same))
            around = graph.neighbours(ids)
            neighbours_now = len(set().union(*around.values()) - set(ids)) if around else 0
    except NotImplementedError:
        pass
    n = len(ids)
    return Health(
        gatherings=gatherings,
        upcoming=[e for e in events if e.starts_at > now][:3],
        weekly_posts=weekly,
        posts=len(times),
        members=sum(1 for _, s in live if s == GroupMemberState.ACTIVE),
        invited=sum(1 for _, s in live if s == GroupMemberState.INVITED),
        pairs_then=pairs_then,
        pairs_now=pairs_now,
        pairs_total=n * (n - 1) // 2,
        neighbours_then=int(base.get("neighbours", 0)),
        neighbours_now=neighbours_now,
        spreads=list(Spread.objects.filter(group=group).select_related("event").order_by("event__starts_at")),
    )
