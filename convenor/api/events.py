"""Events: list, create, read, change, cancel; registrations with intent; attendance; surveys;
the organisers' dashboard.

Registering is not idempotent in effect but is safe to retry: a second registration for
the same event answers ``duplicate`` (409). A buyer registering for a community event (or
a user for a commercial one) is answered ``frame_mismatch`` (409) with a plain account of
what the session is; sending the same request with ``"acknowledge_frame": true`` registers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.core.errors import invalid, not_found
from convenor.events import selectors, services
from convenor.events.models import Event, EventSeries, Registration, Survey
from convenor.people import selectors as people_selectors
from convenor.people.models import Member

from .auth import viewer
from .errors import fields_renamed
from .event_schemas import (
    CancelIn,
    DashboardOut,
    EventDetailOut,
    EventFilters,
    EventIn,
    EventPage,
    EventPatch,
    FitReportOut,
    InvitationIn,
    InvitationOut,
    NoShowIn,
    RegistrationFilters,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    SeriesExtendIn,
    SeriesIn,
    SeriesOut,
    SurveyIn,
    SurveyOut,
)
from .pagination import PageParams, envelope, paginate
from .schemas import ERRORS, ErrorOut
from .spaces import member_of

router = Router(tags=["events"])


# The API's field names for the services' arguments.
_RENAMED = {
    "commercial_owner": "commercial_owner_id",
    "space": "space_id",
    "organization": "organization_id",
    "hosts": "host_ids",
    "speakers": "speaker_ids",
}


def _members(user: AnyUser, ids: list[int]) -> list[Member]:
    return [access.member_for_view(user, mid) for mid in dict.fromkeys(ids)]


@router.get("/events", response={200: EventPage, 401: ErrorOut, 422: ErrorOut})
def event_list(request: HttpRequest, filters: Query[EventFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Events the token's user may see: upcoming (soonest first), past (latest first) or all."""
    qs = selectors.event_list(
        viewer=viewer(request),
        when=filters.when,
        frame=filters.frame or "",
        space_id=filters.space_id,
        organization_id=filters.organization_id,
        q=filters.q,
    )
    return paginate(request, qs, page)


def _event_args(user: AnyUser, payload: EventIn) -> dict[str, Any]:
    """event_create's arguments from the API's fields; checks the user may create this kind of event."""
    space = access.space_for_view(user, payload.space_id) if payload.space_id is not None else None
    access.require(
        access.can_create_event(user, frame=payload.frame, space=space), "You may not create this kind of event"
    )
    owner = (
        access.member_for_view(user, payload.commercial_owner_id) if payload.commercial_owner_id is not None else None
    )
    org = access.organization_for_view(user, payload.organization_id) if payload.organization_id else None
    return {
        "title": payload.title,
        "description": payload.description,
        "starts_at": payload.starts_at,
        "ends_at": payload.ends_at,
        "time_zone": payload.time_zone,
        "place": payload.place,
        "online_url": payload.online_url,
        "capacity": payload.capacity,
        "registration_closes_at": payload.registration_closes_at,
        "frame": payload.frame,
        "brief_audience": payload.brief_audience,
        "brief_reason": payload.brief_reason,
        "brief_offer": payload.brief_offer,
        "brief_payment": payload.brief_payment,
        "commercial_owner": owner,
        "space": space,
        "organization": org,
        "visibility": payload.visibility,
        "hosts": _members(user, payload.host_ids),
        "speakers": _members(user, payload.speaker_ids),
        "creator": access.viewer_member(user),
        "actor": user,
    }


@router.post("/events", response={201: EventDetailOut, **ERRORS})
def event_create(request: HttpRequest, payload: EventIn) -> tuple[int, Event]:
    """Create an event. Admins and community managers create any; sales create commercial
    events; a space's moderators create events in their space."""
    user = viewer(request)
    with fields_renamed(**_RENAMED):
        event = services.event_create(**_event_args(user, payload))
    return 201, event


@router.post("/events/series", response={201: SeriesOut, **ERRORS})
def series_create(request: HttpRequest, payload: SeriesIn) -> tuple[int, EventSeries]:
    """Create a recurring series: the first occurrence as for ``POST /events``, repeated
    weekly or monthly (every ``interval``) for ``count`` occurrences or ``until`` a day, or
    on custom ``dates``. All or nothing: a problem with any occurrence stores none."""
    user = viewer(request)
    with fields_renamed(**_RENAMED, horizon="until"):
        series = services.series_create(
            **_event_args(user, payload),
            recurrence=payload.recurrence,
            interval=payload.interval,
            count=payload.count,
            horizon=payload.until,
            dates=payload.dates,
        )
    return 201, series


def _series_for_view(user: AnyUser, series_id: int) -> tuple[EventSeries, Event]:
    """The series and its first occurrence the user may see; NOT_FOUND when they see none."""
    first = access.visible_events(user).filter(series_id=series_id).order_by("starts_at", "pk").first()
    if first is None or first.series is None:
        raise not_found("No such series")
    return first.series, first


@router.get("/events/series/{series_id}", response={200: SeriesOut, **ERRORS})
def series_detail(request: HttpRequest, series_id: int) -> EventSeries:
    """A series and the occurrences the token user may see."""
    return _series_for_view(viewer(request), series_id)[0]


@router.post("/events/series/{series_id}/extend", response={200: SeriesOut, **ERRORS})
def series_extend(request: HttpRequest, series_id: int, payload: SeriesExtendIn) -> EventSeries:
    """Move a weekly or monthly series' last day later; the occurrences up to it are added
    like the latest one (organisers of the series)."""
    user = viewer(request)
    series, first = _series_for_view(user, series_id)
    access.require(access.can_change_event(user, first), "Only the series' organisers may extend it")
    with fields_renamed(horizon="until"):
        services.series_extend(series=series, horizon=payload.until, actor=user)
    return series


@router.get("/events/report", response={200: FitReportOut, **ERRORS})
def fit_report(request: HttpRequest) -> dict[str, Any]:
    """The framing-fit report (staff): past events and their hosts ranked by fit, with mismatch flags."""
    user = viewer(request)
    access.require(access.is_staff(user), "Only staff see the fit report")
    report = selectors.fit_report(viewer=user)
    return {
        "events": [
            {
                "event_id": f.event.pk,
                "title": f.event.title,
                "frame": f.event.frame,
                "starts_at": f.event.starts_at,
                "confirmed": f.confirmed,
                "users": f.users,
                "buyers": f.buyers,
                "others": f.others,
                "fit_score": f.fit_score,
                "fit_responses": f.fit_responses,
                "flags": f.flags,
            }
            for f in report.events
        ],
        "organisers": [
            {
                "member": {"id": o.member.pk, "name": o.member.name},
                "events": o.events,
                "fit_score": o.fit_score,
                "fit_responses": o.fit_responses,
                "flagged_events": o.flagged_events,
            }
            for o in report.organisers
        ],
        "mismatches": [f.event.pk for f in report.mismatches],
    }


@router.get("/events/{event_id}", response={200: EventDetailOut, **ERRORS})
def event_detail(request: HttpRequest, event_id: int) -> Event:
    return access.event_for_view(viewer(request), event_id)


@router.patch("/events/{event_id}", response={200: EventDetailOut, **ERRORS})
def event_update(request: HttpRequest, event_id: int, payload: EventPatch) -> Event:
    """Change an event (its organisers). Registrants hear of a new time or place."""
    user = viewer(request)
    event = access.event_for_change(user, event_id)
    changes = payload.model_dump(exclude_unset=True)
    host_ids, speaker_ids = changes.pop("host_ids", None), changes.pop("speaker_ids", None)
    with fields_renamed(**_RENAMED):
        if "commercial_owner_id" in changes:
            owner_id = changes.pop("commercial_owner_id")
            changes["commercial_owner"] = access.member_for_view(user, owner_id) if owner_id is not None else None
        if "organization_id" in changes:
            org_id = changes.pop("organization_id")
            changes["organization"] = access.organization_for_view(user, org_id) if org_id is not None else None
        for required in ("title", "starts_at", "ends_at", "time_zone", "frame", "visibility"):
            if required in changes and changes[required] is None:
                changes.pop(required)
        for text in ("description", "place", "online_url", "brief_audience", "brief_reason", "brief_offer"):
            if text in changes and changes[text] is None:
                changes[text] = ""
        if "brief_payment" in changes and changes["brief_payment"] is None:
            changes["brief_payment"] = ""
        return services.event_update(
            event=event,
            hosts=_members(user, host_ids) if host_ids is not None else None,
            speakers=_members(user, speaker_ids) if speaker_ids is not None else None,
            actor=user,
            **changes,
        )


@router.post("/events/{event_id}/cancel", response={200: EventDetailOut, **ERRORS})
def event_cancel(request: HttpRequest, event_id: int, payload: CancelIn) -> Event:
    """Cancel the event (its organisers); registrants are told, with a cancelling .ics."""
    user = viewer(request)
    event = access.event_for_change(user, event_id)
    return services.event_cancel(event=event, actor=user, reason=payload.reason)


@router.get("/events/{event_id}/registrations", response={200: RegistrationPage, **ERRORS})
def registration_list(
    request: HttpRequest, event_id: int, filters: Query[RegistrationFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """The event's registrations, for its organisers. With ``q``: the check-in search
    (confirmed registrants whose name or email matches, not yet checked in first)."""
    user = viewer(request)
    event = access.event_for_change(user, event_id)
    if filters.q.strip():
        found = selectors.checkin_search(event=event, q=filters.q, limit=1000)
        start = (page.page - 1) * page.page_size
        return envelope(request, found[start : start + page.page_size], len(found), page)
    return paginate(request, selectors.event_registrations(event=event, state=filters.state or ""), page)


@router.post("/events/{event_id}/registrations", response={201: RegistrationOut, **ERRORS})
def registration_create(request: HttpRequest, event_id: int, payload: RegistrationIn) -> tuple[int, Registration]:
    """Register the token's user with their intent: confirmed while seats remain, else waitlisted.

    Answers ``frame_mismatch`` (409) when the intent does not fit the frame, unless
    ``acknowledge_frame`` is true; ``duplicate`` (409) when already registered; ``conflict``
    (409) when the event is cancelled or registration has closed.
    """
    user = viewer(request)
    event = access.event_for_view(user, event_id)
    reg = services.registration_create(
        event=event, member=member_of(user), intent=payload.intent, acknowledged=payload.acknowledge_frame
    )
    return 201, reg


def _by_email(user: AnyUser, email: str) -> Member | None:
    return people_selectors.member_find(viewer=user, email=email)


def _by_handle(user: AnyUser, handle: str) -> Member | None:
    key = handle.strip().lstrip("@").lower()
    return access.visible_members(user).filter(handle=key).first() if key else None


@router.post("/events/{event_id}/invitations", response={201: InvitationOut, **ERRORS})
def event_invite(request: HttpRequest, event_id: int, payload: InvitationIn) -> tuple[int, dict[str, Any]]:
    """Invite members by email address or handle (organisers): each gets a notification
    linking to the registration form and an email with the event's .ics attached. Someone
    invited before is not sent again. Unknown names answer ``validation`` and nobody is invited."""
    user = viewer(request)
    event = access.event_for_change(user, event_id)
    found: list[Member] = []
    unknown: list[str] = []
    named = [(raw, _by_email(user, raw)) for raw in payload.emails]
    named += [(raw, _by_handle(user, raw)) for raw in payload.handles]
    for raw, member in named:
        if member is None:
            unknown.append(raw)
        else:
            found.append(member)
    if unknown:
        raise invalid(f"Nobody you can see is {', '.join(unknown)}", people=f"Unknown: {', '.join(unknown)}")
    done = services.event_invite(event=event, members=found, by=member_of(user))
    return 201, {
        "invited": [{"id": m.pk, "name": m.name} for m in done.invited],
        "already_invited": [{"id": m.pk, "name": m.name} for m in done.again],
    }


@router.post("/events/{event_id}/release", response={200: EventDetailOut, **ERRORS})
def event_release(request: HttpRequest, event_id: int) -> Event:
    """Publish a community event held by the charter check (admins and community managers)."""
    user = viewer(request)
    event = access.event_for_view(user, event_id)
    access.require(access.can_release_event(user), "Only admins and community managers release held events")
    return services.event_release(event=event, actor=user)


@router.get("/events/{event_id}/dashboard", response={200: DashboardOut, **ERRORS})
def event_dashboard(request: HttpRequest, event_id: int) -> dict[str, Any]:
    """Registrations by intent and state, attendance, waitlist and framing fit (organisers)."""
    event = access.event_for_change(viewer(request), event_id)
    return asdict(selectors.event_dashboard(event=event))


@router.delete("/registrations/{registration_id}", response={200: RegistrationOut, **ERRORS})
def registration_cancel(request: HttpRequest, registration_id: int) -> Registration:
    """Cancel a registration: one's own, or any of an event one organises. The first on the
    waitlist takes the seat."""
    user = viewer(request)
    reg = access.registration_for_view(user, registration_id)
    return services.registration_cancel(registration=reg, actor=user)


def _for_checkin(request: HttpRequest, registration_id: int) -> Registration:
    user = viewer(request)
    reg = access.registration_for_view(user, registration_id)
    access.require(access.can_checkin(user, reg.event), "Only the event's organisers check people in")
    return reg


@router.post("/registrations/{registration_id}/checkin", response={200: RegistrationOut, **ERRORS})
def registration_checkin(request: HttpRequest, registration_id: int) -> Registration:
    """Check a confirmed registrant in (organisers). Checking in twice keeps the first time."""
    return services.checkin(registration=_for_checkin(request, registration_id))


@router.post("/registrations/{registration_id}/no-show", response={200: RegistrationOut, **ERRORS})
def registration_no_show(request: HttpRequest, registration_id: int, payload: NoShowIn) -> Registration:
    """Mark (or with ``"no_show": false`` unmark) a confirmed registrant who did not come."""
    reg = _for_checkin(request, registration_id)
    return services.mark_no_show(registration=reg, no_show=payload.no_show)


@router.post("/registrations/{registration_id}/survey", response={201: SurveyOut, **ERRORS})
def registration_survey(request: HttpRequest, registration_id: int, payload: SurveyIn) -> tuple[int, Survey]:
    """The attendee's answer, once, after the event: was it what its framing promised (1-5)?"""
    user = viewer(request)
    reg = access.registration_for_view(user, registration_id)
    survey = services.survey_submit(registration=reg, member=member_of(user), fit=payload.fit, comment=payload.comment)
    return 201, survey
