"""Schemas of the events API (convenor/api/events.py); kept apart from schemas.py, which
holds the older apps' schemas, so each file stays a readable size."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from convenor.core import access
from convenor.events import calendar as ics
from convenor.events import selectors
from convenor.events.models import (
    CheckState,
    Event,
    EventSeries,
    Frame,
    Intent,
    Recurrence,
    Registration,
    RegistrationState,
    Visibility,
)

from .auth import viewer
from .pagination import Page
from .schemas import _request, viewer_member


class BriefOut(Schema):
    audience: str = Field(description="Who it targets.")
    reason: str = Field(description="Why they want to hear it.")
    offer: str = Field(description="What is offered.")
    payment: str = Field(description="How they pay.")


class PersonOut(Schema):
    id: int
    name: str


class IntentCountsOut(Schema):
    user: int
    buyer: int
    other: int


class EventOut(Schema):
    id: int
    title: str
    description: str = Field(description="Markdown, as written.")
    description_html: str = Field(description="The description rendered and sanitised.")
    starts_at: datetime
    ends_at: datetime
    time_zone: str = Field(description="The IANA zone the event is held in, such as Europe/Paris.")
    place: str
    online_url: str
    capacity: int | None = Field(description="Seats; null for no limit.")
    registration_closes_at: datetime | None = Field(description="Null: registration is open until the event ends.")
    frame: Frame = Field(description="community or commercial; state it wherever the event is shown.")
    brief: BriefOut | None = Field(description="The commercial brief, shown to registrants; null for community events.")
    commercial_owner_id: int | None = Field(description="The employee who owns a commercial event.")
    space_id: int | None
    group_id: int | None
    organization_id: int | None = Field(description="The customer organisation of an account event.")
    visibility: Visibility = Field(description="An event in a space is read by whoever reads the space.")
    series_id: int | None
    check_state: CheckState = Field(description="Charter check of a community event: ok, held or unchecked.")
    check_reasons: list[dict[str, Any]] = Field(description="Why a held event reads as selling, strongest first.")
    cancelled_at: datetime | None
    sequence: int = Field(description="iCalendar SEQUENCE: raised on each change calendars must pick up.")
    ics_url: str = Field(description="The absolute URL of the event's .ics file.")
    confirmed_count: int
    waitlist_count: int
    registrations_by_intent: IntentCountsOut = Field(description="Confirmed and waitlisted registrations by intent.")

    @staticmethod
    def resolve_brief(obj: Event) -> dict[str, str] | None:
        if obj.frame != Frame.COMMERCIAL:
            return None
        return {
            "audience": obj.brief_audience,
            "reason": obj.brief_reason,
            "offer": obj.brief_offer,
            "payment": obj.brief_payment,
        }

    @staticmethod
    def resolve_ics_url(obj: Event) -> str:
        return ics.ics_url(obj)

    @staticmethod
    def _counted(obj: Event) -> Event:
        if not hasattr(obj, "confirmed_count"):
            counted = selectors.with_counts(Event.objects.filter(pk=obj.pk)).get()
            for name in ("confirmed_count", "waitlist_count", "user_count", "buyer_count", "other_count"):
                setattr(obj, name, getattr(counted, name))
        return obj

    @staticmethod
    def resolve_confirmed_count(obj: Event) -> int:
        count: int = EventOut._counted(obj).confirmed_count  # type: ignore[attr-defined]  # annotated by with_counts
        return count

    @staticmethod
    def resolve_waitlist_count(obj: Event) -> int:
        count: int = EventOut._counted(obj).waitlist_count  # type: ignore[attr-defined]  # annotated by with_counts
        return count

    @staticmethod
    def resolve_registrations_by_intent(obj: Event) -> dict[str, int]:
        e: Any = EventOut._counted(obj)
        return {"user": e.user_count, "buyer": e.buyer_count, "other": e.other_count}


class RegistrationOut(Schema):
    id: int
    event_id: int
    member: PersonOut
    intent: Intent
    state: RegistrationState
    waitlist_position: int | None = Field(description="Order on the waitlist; numbers are not closed up.")
    waitlist_place: int | None = Field(description="Where the registration stands in the queue now (1 = next).")
    created_at: datetime
    cancelled_at: datetime | None
    attended_at: datetime | None
    no_show: bool
    acknowledged_frame_mismatch: bool = Field(description="Registered after being told the frame did not fit.")

    @staticmethod
    def resolve_waitlist_place(obj: Registration) -> int | None:
        return selectors.waitlist_place(registration=obj)


class EventDetailOut(EventOut):
    hosts: list[PersonOut]
    speakers: list[PersonOut]
    my_registration: RegistrationOut | None = Field(description="The token user's live registration, if any.")
    can_change: bool = Field(description="Whether the token user organises the event.")

    @staticmethod
    def resolve_hosts(obj: Event) -> list[Any]:
        return selectors.event_hosts(event=obj)

    @staticmethod
    def resolve_speakers(obj: Event) -> list[Any]:
        return selectors.event_speakers(event=obj)

    @staticmethod
    def resolve_my_registration(obj: Event, context: Any) -> Registration | None:
        return selectors.registration_of(event=obj, member=viewer_member(_request(context)))

    @staticmethod
    def resolve_can_change(obj: Event, context: Any) -> bool:
        return access.can_change_event(viewer(_request(context)), obj)


class EventPage(Page):
    items: list[EventOut]


class EventFilters(Schema):
    when: str = Field("upcoming", pattern="^(upcoming|past|all)$", description="upcoming (default), past or all.")
    frame: Frame | None = None
    space_id: int | None = None
    organization_id: int | None = None
    q: str = Field("", description="Part of the title.")


class EventIn(Schema):
    title: str
    description: str = Field("", description="Markdown. A community event's description is held to the charter.")
    starts_at: datetime = Field(description="With its UTC offset.")
    ends_at: datetime
    time_zone: str = "UTC"
    place: str = ""
    online_url: str = ""
    capacity: int | None = Field(None, description="At least 1; null for no limit.")
    registration_closes_at: datetime | None = None
    frame: Frame = Field(description="Required: community or commercial.")
    brief_audience: str = Field("", description="Commercial events: who it targets.")
    brief_reason: str = Field("", description="Commercial events: why they want to hear it.")
    brief_offer: str = Field("", description="Commercial events: what is offered.")
    brief_payment: str = Field("", description="Commercial events: how they pay.")
    commercial_owner_id: int | None = Field(None, description="Commercial events: the employee who owns it.")
    space_id: int | None = Field(None, description="The space it belongs to; it then has the space's readership.")
    organization_id: int | None = Field(None, description="For account visibility.")
    visibility: Visibility = Visibility.MEMBERS
    host_ids: list[int] = Field(default_factory=list, description="Members who host it; the creator by default.")
    speaker_ids: list[int] = Field(default_factory=list)


class EventPatch(Schema):
    """Only the fields sent change; ``"capacity": null`` removes the limit."""

    title: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    time_zone: str | None = None
    place: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    registration_closes_at: datetime | None = None
    frame: Frame | None = None
    brief_audience: str | None = None
    brief_reason: str | None = None
    brief_offer: str | None = None
    brief_payment: str | None = None
    commercial_owner_id: int | None = None
    visibility: Visibility | None = None
    organization_id: int | None = None
    host_ids: list[int] | None = None
    speaker_ids: list[int] | None = None


class CancelIn(Schema):
    reason: str = Field("", description="Told to the registrants.")


class RegistrationIn(Schema):
    intent: Intent = Field(description="user (I use it), buyer (I am evaluating or buying) or other.")
    acknowledge_frame: bool = Field(
        False, description="Register although the frame does not fit the intent (after a frame_mismatch answer)."
    )


class RegistrationPage(Page):
    items: list[RegistrationOut]


class RegistrationFilters(Schema):
    state: RegistrationState | None = None
    q: str = Field("", description="Part of a registrant's name or email (confirmed registrants only).")


class NoShowIn(Schema):
    no_show: bool = True


class SurveyIn(Schema):
    fit: int = Field(description="Was the session what its framing promised? 1 (not at all) to 5 (exactly).")
    comment: str = ""


class SurveyOut(Schema):
    id: int
    registration_id: int
    fit: int
    comment: str
    created_at: datetime


class DashboardOut(Schema):
    capacity: int | None
    by_intent: dict[str, dict[str, int]] = Field(description="{intent: {state: count}}, zeros included.")
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    no_shows: int
    attendance_rate: float | None = Field(description="Attended / confirmed once the event has started.")
    waitlist_length: int
    fit_score: float | None = Field(description="Mean survey answer (1 to 5); null without answers.")
    fit_responses: int
    seats_left: int | None
    flags: list[str] = Field(description="community_mostly_buyers, commercial_mostly_users, low_fit.")


class SeriesIn(EventIn):
    """The first occurrence (as for POST /events) and how it repeats."""

    recurrence: Recurrence = Field(description="weekly, monthly or custom.")
    interval: int = Field(1, description="Every n weeks or months (1 to 52); unused for custom dates.")
    count: int | None = Field(None, description="How many occurrences in all, the first included (2 to 104).")
    until: date | None = Field(None, description="The last day of the series, in the event's time zone.")
    dates: list[datetime] = Field(
        default_factory=list, description="Custom series: the other starts, each with its UTC offset."
    )


class SeriesOut(Schema):
    id: int
    title: str
    recurrence: Recurrence
    interval: int
    horizon: date = Field(description="Occurrences are generated up to this day.")
    occurrences: list[EventOut] = Field(description="The occurrences the token user may see, soonest first.")

    @staticmethod
    def resolve_occurrences(obj: EventSeries, context: Any) -> list[Event]:
        user = viewer(_request(context))
        return list(selectors.with_counts(access.visible_events(user).filter(series=obj)).order_by("starts_at", "pk"))


class SeriesExtendIn(Schema):
    until: date = Field(description="The new last day: occurrences up to it are added like the latest one.")


class InvitationIn(Schema):
    emails: list[str] = Field(default_factory=list, description="Email addresses of members to invite.")
    handles: list[str] = Field(default_factory=list, description="Handles of members to invite, with or without @.")


class InvitationOut(Schema):
    invited: list[PersonOut] = Field(description="Newly invited: a notification and an email with the .ics.")
    already_invited: list[PersonOut] = Field(description="Invited before; not sent again.")


class EventFitOut(Schema):
    event_id: int
    title: str
    frame: Frame
    starts_at: datetime
    confirmed: int
    users: int
    buyers: int
    others: int
    fit_score: float | None = Field(description="Mean survey answer (1 to 5); null without answers.")
    fit_responses: int
    flags: list[str] = Field(description="community_mostly_buyers, commercial_mostly_users, low_fit.")


class OrganiserFitOut(Schema):
    member: PersonOut
    events: int
    fit_score: float | None
    fit_responses: int
    flagged_events: int


class FitReportOut(Schema):
    events: list[EventFitOut] = Field(description="Past events ranked by framing fit, best first; unanswered last.")
    organisers: list[OrganiserFitOut] = Field(description="Hosts ranked by the fit of all answers at their events.")
    mismatches: list[int] = Field(description="Ids of the events with a mismatch flag.")
