"""Reads for events. Every list starts from what the viewer may see (core.access).

Counting is done in SQL (conditional aggregates), never by looping over registrations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.events.models import (
    Event,
    EventRole,
    Frame,
    Intent,
    Registration,
    RegistrationState,
    RoleKind,
    Survey,
)
from convenor.people.models import Member

_LIVE = [RegistrationState.CONFIRMED, RegistrationState.WAITLISTED]
# A confirmed audience where more than this share comes with the "wrong" intent is a
# framing mismatch worth the organiser's attention.
MISMATCH_SHARE = 0.5
# A mean framing fit below this is flagged.
LOW_FIT = 3.0


def with_counts(qs: QuerySet[Event]) -> QuerySet[Event]:
    """Annotate each event with ``confirmed_count``, ``waitlist_count`` and confirmed or
    waitlisted registrations by intent: ``user_count``, ``buyer_count``, ``other_count``."""
    live = Q(registrations__state__in=_LIVE)
    return qs.annotate(
        confirmed_count=Count("registrations", filter=Q(registrations__state=RegistrationState.CONFIRMED)),
        waitlist_count=Count("registrations", filter=Q(registrations__state=RegistrationState.WAITLISTED)),
        user_count=Count("registrations", filter=live & Q(registrations__intent=Intent.USER)),
        buyer_count=Count("registrations", filter=live & Q(registrations__intent=Intent.BUYER)),
        other_count=Count("registrations", filter=live & Q(registrations__intent=Intent.OTHER)),
    )


def event_list(
    *,
    viewer: AnyUser,
    when: str = "upcoming",
    frame: str = "",
    space_id: int | None = None,
    organization_id: int | None = None,
    q: str = "",
    now: datetime | None = None,
) -> QuerySet[Event]:
    """Events the viewer may see, annotated by :func:`with_counts`.

    `when`: "upcoming" (not yet ended, soonest first), "past" (ended, latest first) or
    "all". Filters: `frame` (community/commercial), `space_id`, `organization_id` (the
    customer organisation of an account event, or of its space), `q` (in the title).
    Cancelled events stay in the list (they show as cancelled).
    """
    now = now or timezone.now()
    qs = access.visible_events(viewer)
    if when == "upcoming":
        qs = qs.filter(ends_at__gt=now).order_by("starts_at", "pk")
    elif when == "past":
        qs = qs.filter(ends_at__lte=now).order_by("-starts_at", "-pk")
    else:
        qs = qs.order_by("starts_at", "pk")
    if frame:
        qs = qs.filter(frame=frame)
    if space_id is not None:
        qs = qs.filter(space_id=space_id)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if q.strip():
        qs = qs.filter(title__icontains=q.strip())
    return with_counts(qs.select_related("space", "organization", "commercial_owner"))


def event_roles(*, event: Event) -> QuerySet[EventRole]:
    """Hosts first, then speakers, by name."""
    return EventRole.objects.filter(event=event).select_related("member").order_by("role", "member__name")


def event_hosts(*, event: Event) -> list[Member]:
    return [r.member for r in event_roles(event=event) if r.role == RoleKind.HOST]


def event_speakers(*, event: Event) -> list[Member]:
    return [r.member for r in event_roles(event=event) if r.role == RoleKind.SPEAKER]


def registration_of(*, event: Event, member: Member | None) -> Registration | None:
    """The member's live (confirmed or waitlisted) registration, if any."""
    if member is None:
        return None
    return Registration.objects.filter(event=event, member=member, state__in=_LIVE).first()


def waitlist_place(*, registration: Registration) -> int | None:
    """Where a waitlisted registration stands in the queue now (1 = next to get a seat)."""
    if registration.state != RegistrationState.WAITLISTED or registration.waitlist_position is None:
        return None
    ahead = Registration.objects.filter(
        event_id=registration.event_id,
        state=RegistrationState.WAITLISTED,
        waitlist_position__lt=registration.waitlist_position,
    ).count()
    return ahead + 1


def event_registrations(*, event: Event, state: str = "") -> QuerySet[Registration]:
    """An event's registrations for its organisers: confirmed, then waitlist in order, then cancelled."""
    qs = Registration.objects.filter(event=event).select_related("member", "member__user")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("state", "waitlist_position", "created_at", "pk")


def member_registrations(*, member: Member, upcoming_only: bool = False) -> QuerySet[Registration]:
    """A member's live registrations (for their own page and calendar feed), soonest first."""
    qs = Registration.objects.filter(member=member, state__in=_LIVE).select_related("event")
    if upcoming_only:
        qs = qs.filter(event__ends_at__gt=timezone.now())
    return qs.order_by("event__starts_at", "pk")


def checkin_search(*, event: Event, q: str = "", limit: int = 50) -> list[Registration]:
    """Confirmed registrants of an event whose name or email contains `q` (all when empty),
    not yet checked in first, for the organisers' check-in page."""
    qs = Registration.objects.filter(event=event, state=RegistrationState.CONFIRMED).select_related("member")
    term = q.strip()
    if term:
        qs = qs.filter(Q(member__name__icontains=term) | Q(member__email__icontains=term))
    return list(qs.order_by(F("attended_at").asc(nulls_first=True), "member__name", "pk")[:limit])


def commercial_route(*, viewer: AnyUser, exclude: Event | None = None, limit: int = 3) -> list[Event]:
    """Upcoming commercial events the viewer may see: the route offered to buyers."""
    qs = access.visible_events(viewer).filter(
        frame=Frame.COMMERCIAL, cancelled_at__isnull=True, starts_at__gte=timezone.now()
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs.order_by("starts_at", "pk")[:limit])


# --- the organisers' dashboard ----------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    """An event's figures for its organisers."""

    capacity: int | None
    # {intent: {state: count}} for every intent and state, zeros included.
    by_intent: dict[str, dict[str, int]]
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    no_shows: int
    # attended / confirmed, once the event has started; None before or with nobody confirmed.
    attendance_rate: float | None
    waitlist_length: int
    # Mean of the surveys' fit (1 to 5), None without answers.
    fit_score: float | None
    fit_responses: int
    seats_left: int | None = None
    flags: list[str] = field(default_factory=list)


def event_dashboard(*, event: Event, now: datetime | None = None) -> Dashboard:
    """Registrations by intent and state, attendance, waitlist and framing fit, in three queries."""
    now = now or timezone.now()
    by_intent = {i: dict.fromkeys(RegistrationState.values, 0) for i in Intent.values}
    rows = Registration.objects.filter(event=event).values("intent", "state").annotate(n=Count("pk"))
    for row in rows:
        by_intent[row["intent"]][row["state"]] = row["n"]
    totals = Registration.objects.filter(event=event).aggregate(
        attended=Count("pk", filter=Q(attended_at__isnull=False, state=RegistrationState.CONFIRMED)),
        no_shows=Count("pk", filter=Q(no_show=True, state=RegistrationState.CONFIRMED)),
    )
    fit = Registration.objects.filter(event=event, survey__isnull=False).aggregate(
        mean=Avg("survey__fit"), n=Count("survey")
    )
    confirmed = sum(v[RegistrationState.CONFIRMED] for v in by_intent.values())
    waitlisted = sum(v[RegistrationState.WAITLISTED] for v in by_intent.values())
    cancelled = sum(v[RegistrationState.CANCELLED] for v in by_intent.values())
    started = now >= event.starts_at
    rate = totals["attended"] / confirmed if started and confirmed else None
    mean = round(float(fit["mean"]), 2) if fit["mean"] is not None else None
    buyers = by_intent[Intent.BUYER][RegistrationState.CONFIRMED]
    users = by_intent[Intent.USER][RegistrationState.CONFIRMED]
    return Dashboard(
        capacity=event.capacity,
        by_intent=by_intent,
        confirmed=confirmed,
        waitlisted=waitlisted,
        cancelled=cancelled,
        attended=totals["attended"],
        no_shows=totals["no_shows"],
        attendance_rate=round(rate, 3) if rate is not None else None,
        waitlist_length=waitlisted,
        fit_score=mean,
        fit_responses=fit["n"],
        seats_left=max(0, event.capacity - confirmed) if event.capacity is not None else None,
        flags=mismatch_flags(frame=event.frame, confirmed=confirmed, buyers=buyers, users=users, fit=mean),
    )


def mismatch_flags(*, frame: str, confirmed: int, buyers: int, users: int, fit: float | None) -> list[str]:
    """Why an event's audience or survey does not fit its frame:

    - ``community_mostly_buyers``: a community event whose confirmed audience is mostly buyers;
    - ``commercial_mostly_users``: a commercial event whose confirmed audience is mostly users;
    - ``low_fit``: attendees scored the framing below 3 on average.
    """
    flags = []
    if confirmed and frame == Frame.COMMUNITY and buyers / confirmed > MISMATCH_SHARE:
        flags.append("community_mostly_buyers")
    if confirmed and frame == Frame.COMMERCIAL and users / confirmed > MISMATCH_SHARE:
        flags.append("commercial_mostly_users")
    if fit is not None and fit < LOW_FIT:
        flags.append("low_fit")
    return flags


FLAG_TEXT = {
    "community_mostly_buyers": "A community event whose audience is mostly buyers",
    "commercial_mostly_users": "A commercial event whose audience is mostly users",
    "low_fit": "Attendees said the session was not what its framing promised (mean fit below 3)",
}


# --- the framing-fit report -------------------------------------------------------------------


@dataclass(frozen=True)
class EventFit:
    event: Event
    confirmed: int
    users: int
    buyers: int
    others: int
    fit_score: float | None
    fit_responses: int
    flags: list[str]

    @property
    def buyer_share(self) -> float | None:
        return self.buyers / self.confirmed if self.confirmed else None


@dataclass(frozen=True)
class OrganiserFit:
    member: Member
    events: int
    # The mean of every survey answer at the events they hosted, None without answers.
    fit_score: float | None
    fit_responses: int
    flagged_events: int


@dataclass(frozen=True)
class FitReport:
    """Events and organisers ranked by framing fit (best first; unanswered last)."""

    events: list[EventFit]
    organisers: list[OrganiserFit]

    @property
    def mismatches(self) -> list[EventFit]:
        return [e for e in self.events if e.flags]


def _rank_key(fit: float | None, responses: int) -> tuple[int, float, int]:
    return (0 if fit is not None else 1, -(fit or 0.0), -responses)


def fit_report(*, viewer: AnyUser, since: datetime | None = None, now: datetime | None = None) -> FitReport:
    """Past, not cancelled events the viewer may see, ranked by mean survey fit, with
    mismatch flags; and their hosts ranked by the fit of all answers at their events.

    Two aggregate queries; the Python work is per event and per host, not per row.
    """
    now = now or timezone.now()
    confirmed = Q(registrations__state=RegistrationState.CONFIRMED)
    qs = access.visible_events(viewer).filter(ends_at__lte=now, cancelled_at__isnull=True)
    if since is not None:
        qs = qs.filter(starts_at__gte=since)
    rows = qs.annotate(
        n_confirmed=Count("registrations", filter=confirmed),
        n_users=Count("registrations", filter=confirmed & Q(registrations__intent=Intent.USER)),
        n_buyers=Count("registrations", filter=confirmed & Q(registrations__intent=Intent.BUYER)),
        n_others=Count("registrations", filter=confirmed & Q(registrations__intent=Intent.OTHER)),
        fit_mean=Avg("registrations__survey__fit"),
        fit_n=Count("registrations__survey"),
    ).select_related("space")
    events: list[EventFit] = []
    for e in rows:
        mean = round(float(e.fit_mean), 2) if e.fit_mean is not None else None
        events.append(
            EventFit(
                event=e,
                confirmed=e.n_confirmed,
                users=e.n_users,
                buyers=e.n_buyers,
                others=e.n_others,
                fit_score=mean,
                fit_responses=e.fit_n,
                flags=mismatch_flags(
                    frame=e.frame, confirmed=e.n_confirmed, buyers=e.n_buyers, users=e.n_users, fit=mean
                ),
            )
        )
    events.sort(key=lambda f: (*_rank_key(f.fit_score, f.fit_responses), f.event.pk))
    by_event = {f.event.pk: f for f in events}
    hosts = (
        EventRole.objects.filter(role=RoleKind.HOST, event_id__in=list(by_event))
        .select_related("member")
        .order_by("member_id")
    )
    grouped: dict[int, tuple[Member, list[EventFit]]] = {}
    for role in hosts:
        grouped.setdefault(role.member_id, (role.member, []))[1].append(by_event[role.event_id])
    organisers = []
    for member, fits in grouped.values():
        answers = sum(f.fit_responses for f in fits)
        total = sum((f.fit_score or 0.0) * f.fit_responses for f in fits)
        organisers.append(
            OrganiserFit(
                member=member,
                events=len(fits),
                fit_score=round(total / answers, 2) if answers else None,
                fit_responses=answers,
                flagged_events=sum(1 for f in fits if f.flags),
            )
        )
    organisers.sort(key=lambda o: (*_rank_key(o.fit_score, o.fit_responses), o.member.name))
    return FitReport(events=events, organisers=organisers)


# --- for the pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seats:
    confirmed: int
    waitlisted: int


def event_seats(*, event: Event) -> Seats:
    """How many are confirmed and waiting, in one query."""
    row = Registration.objects.filter(event=event).aggregate(
        confirmed=Count("pk", filter=Q(state=RegistrationState.CONFIRMED)),
        waitlisted=Count("pk", filter=Q(state=RegistrationState.WAITLISTED)),
    )
    return Seats(confirmed=row["confirmed"], waitlisted=row["waitlisted"])


def survey_comments(*, event: Event, limit: int = 50) -> QuerySet[Survey]:
    """The survey answers with a comment, newest first, for the organisers' dashboard."""
    return (
        Survey.objects.filter(registration__event=event)
        .exclude(comment="")
        .select_related("registration__member")
        .order_by("-created_at", "-pk")[:limit]
    )


def survey_of(*, registration: Registration) -> Survey | None:
    return Survey.objects.filter(registration=registration).first()


def sales_contact() -> Member | None:
    """An employee in sales to name to buyers when no commercial event fits (the first by name)."""
    from convenor.core.models import StaffRole

    return (
        Member.objects.filter(user__staff_role=StaffRole.SALES, user__is_active=True, email__isnull=False)
        .order_by("name", "pk")
        .first()
    )


def events_of_space(*, viewer: AnyUser, space_id: int, limit: int = 5) -> list[Event]:
    """The next events of a space, for its page."""
    return list(event_list(viewer=viewer, when="upcoming", space_id=space_id).filter(cancelled_at__isnull=True)[:limit])
