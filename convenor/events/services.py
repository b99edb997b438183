"""Writes for events: create, update, cancel; registrations with intent, the waitlist,
attendance, surveys; series of recurring events.

Each function validates (per-field ApplicationError, nothing stored on error), writes in
one transaction, records the interaction in the activity log with a stable origin id and
place ``("event", id)``, and queues notifications and emails, sent after the commit.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core import access
from convenor.core.audit import audit_log
from convenor.core.errors import ApplicationError, ErrorCode, invalid, not_found
from convenor.core.models import AuditEntry, Notification, NotificationPrefs, User
from convenor.core.notify import Note, notify
from convenor.events import calendar as ics
from convenor.events.charter import check_description
from convenor.events.models import (
    CheckState,
    Event,
    EventRole,
    EventSeries,
    Frame,
    Intent,
    Recurrence,
    Registration,
    RegistrationState,
    RoleKind,
    Survey,
    Visibility,
)
from convenor.people.models import Member, Organization, OrgKind, Role
from convenor.people.selectors import accounts_of
from convenor.spaces import markdown
from convenor.spaces.models import Space

# Activities of an event land in the log with place ("event", id).
PLACE = "event"
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 20_000
MAX_COMMENT_CHARS = 2_000
MAX_OCCURRENCES = 104
BRIEF_FIELDS = {
    "brief_audience": "who it targets",
    "brief_reason": "why they want to hear it",
    "brief_offer": "what is offered",
    "brief_payment": "how they pay",
}
# Fields event_update accepts; anything else is a programming error.
UPDATABLE = frozenset(
    {
        "title",
        "description",
        "starts_at",
        "ends_at",
        "time_zone",
        "place",
        "online_url",
        "capacity",
        "registration_closes_at",
        "frame",
        *BRIEF_FIELDS,
        "commercial_owner",
        "visibility",
        "organization",
        "group_id",
    }
)
# Changes registrants must hear about (their calendars too).
_SCHEDULE_FIELDS = frozenset({"starts_at", "ends_at", "time_zone", "place", "online_url"})


def _event_url(event: Event) -> str:
    """Site-relative URL of the event page (the web app serves it)."""
    return f"/events/{event.pk}/"


def _users(members: Iterable[Member]) -> list[User]:
    return accounts_of(members)


def _tell(
    who: list[User],
    event: Event,
    *,
    kind: str,
    title: str,
    key: str,
    url: str | None = None,
    actor_name: str = "",
) -> int:
    """Notify `who` about `event` (its page by default); one notification per person and key."""
    return notify(
        who,
        Note(
            kind=kind,
            title=title,
            url=url or _event_url(event),
            key=key,
            actor_name=actor_name,
            place_kind=PLACE,
            place_id=event.pk,
        ),
    )


# --- emails with the .ics attached ------------------------------------------------------------


def _wants_email(member: Member) -> bool:
    if not member.email:
        return False
    if member.user_id is None:
        return True
    return not NotificationPrefs.objects.filter(user_id=member.user_id, email_each=False).exists()


def send_event_email(member: Member, *, event: Event, subject: str, body: str, method: str = "REQUEST") -> bool:
    """Email `member` about `event` with its .ics attached; returns whether it was sent.

    Skipped for people without an email address and those who turned emails off.
    """
    if not _wants_email(member):
        return False
    assert member.email is not None
    message = EmailMessage(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=f"{body}\n\n{ics.describe(event)}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[member.email],
    )
    message.attach("event.ics", ics.event_ics(event, method=method), f"text/calendar; method={method}")
    message.send(fail_silently=True)
    return True


def _email_on_commit(members: Sequence[Member], *, event_id: int, subject: str, body: str, method: str) -> None:
    ids = [m.pk for m in members]

    def send() -> None:
        event = Event.objects.get(pk=event_id)
        for member in Member.objects.filter(pk__in=ids):
            send_event_email(member, event=event, subject=subject, body=body, method=method)

    transaction.on_commit(send)


def frame_line(event: Event) -> str:
    """One plain sentence stating the frame, for every page, form, email and invitation."""
    if event.frame == Frame.COMMERCIAL:
        return f"“{event.title}” is a commercial event: a sales session for {event.brief_audience}."
    return f"“{event.title}” is a community event: people helping one another get more out of what they use."


# --- validation -----------------------------------------------------------------------------


def _valid_zone(name: str) -> bool:
    if not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_event(data: dict[str, Any]) -> dict[str, list[str]]:
    """Per-field problems with a whole event's data (the merged state on update)."""
    fields: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        fields.setdefault(name, []).append(message)

    title = data["title"].strip()
    if not title:
        add("title", "This field is required")
    elif len(title) > MAX_TITLE_CHARS:
        add("title", f"At most {MAX_TITLE_CHARS} characters")
    if len(data["description"]) > MAX_DESCRIPTION_CHARS:
        add("description", f"At most {MAX_DESCRIPTION_CHARS:,} characters")
    if data["frame"] not in Frame.values:
        add("frame", f"Choose community or commercial, not {data['frame']!r}")
    starts, ends = data["starts_at"], data["ends_at"]
    for name in ("starts_at", "ends_at", "registration_closes_at"):
        value = data[name]
        if value is not None and timezone.is_naive(value):
            add(name, "Give a time with its UTC offset")
    times_ok = not fields.get("starts_at") and not fields.get("ends_at")
    if times_ok and ends <= starts:
        add("ends_at", "The event must end after it starts")
    if not _valid_zone(data["time_zone"]):
        add("time_zone", f"{data['time_zone']!r} is not a known time zone (use a name such as Europe/Paris)")
    capacity = data["capacity"]
    if capacity is not None and capacity < 1:
        add("capacity", "At least 1 seat, or leave it empty for no limit")
    closes = data["registration_closes_at"]
    if closes is not None and times_ok and not fields.get("registration_closes_at") and closes > ends:
        add("registration_closes_at", "Registration must close before the event ends")
    if not data["place"].strip() and not data["online_url"].strip():
        add("place", "Give a place or an online link")
    if len(data["place"]) > 300:
        add("place", "At most 300 characters")
    if data["online_url"]:
        try:
            URLValidator(schemes=["http", "https"])(data["online_url"])
        except DjangoValidationError:
            add("online_url", "Give a web address starting with https://")
    if data["frame"] == Frame.COMMERCIAL:
        for name, label in BRIEF_FIELDS.items():
            if not data[name].strip():
                add(name, f"A commercial event states {label}")
        owner: Member | None = data["commercial_owner"]
        if owner is None:
            add("commercial_owner", "A commercial event names the employee who owns it")
        elif owner.role != Role.EMPLOYEE:
            add("commercial_owner", f"{owner.name} is not an employee")
    visibility = data["visibility"]
    if data["space"] is None:
        if visibility not in Visibility.values:
            add("visibility", f"{visibility!r} is not one of: {', '.join(Visibility.values)}")
        org: Organization | None = data["organization"]
        if visibility == Visibility.ACCOUNT:
            if org is None:
                add("organization", "An account event belongs to one customer organisation")
            elif org.kind == OrgKind.OURS:
                add("organization", "Account events are for customer organisations, not our company")
        if visibility == Visibility.GROUP and data["group_id"] is None:
            add("group_id", "A group event names its group")
    return fields


def _raise_if(fields: dict[str, list[str]], message: str) -> None:
    if fields:
        first = next(iter(fields.values()))[0]
        raise ApplicationError(ErrorCode.VALIDATION, f"{message}: {first}", fields=fields)


def _check_people(event: Event, hosts: Sequence[Member], speakers: Sequence[Member]) -> None:
    fields: dict[str, list[str]] = {}
    for name, people in (("hosts", hosts), ("speakers", speakers)):
        for member in people:
            if not access.event_audience_includes(member, event):
                fields.setdefault(name, []).append(f"{member.name} cannot see this event")
    _raise_if(fields, "The event could not be saved")


# --- events ---------------------------------------------------------------------------------


def _apply_charter(event: Event) -> None:
    """Set the charter fields: community events are checked, commercial ones are not."""
    if event.frame == Frame.COMMERCIAL:
        event.check_state, event.check_score, event.check_reasons = CheckState.OK, None, []
        return
    verdict = check_description(event.description)
    event.check_state, event.check_score, event.check_reasons = verdict.state, verdict.score, verdict.reasons


def _record_roles(event: Event, roles: Iterable[EventRole]) -> None:
    for role in roles:
        verb = Verb.HOSTED if role.role == RoleKind.HOST else Verb.SPOKE
        record(
            actor=role.member,
            verb=verb,
            origin_id=f"event-{role.role}:{event.pk}:{role.member_id}",
            object_kind=PLACE,
            object_id=event.pk,
            place_kind=PLACE,
            place_id=event.pk,
        )


def _set_roles(event: Event, hosts: Sequence[Member], speakers: Sequence[Member]) -> None:
    """Make the event's hosts and speakers exactly these; newcomers are recorded."""
    wanted = {(m.pk, RoleKind.HOST.value) for m in hosts} | {(m.pk, RoleKind.SPEAKER.value) for m in speakers}
    existing = {(r.member_id, r.role): r for r in EventRole.objects.filter(event=event)}
    stale = [r.pk for key, r in existing.items() if key not in wanted]
    EventRole.objects.filter(pk__in=stale).delete()
    people = {m.pk: m for m in [*hosts, *speakers]}
    fresh = [
        EventRole(event=event, member=people[mid], role=role) for mid, role in wanted if (mid, role) not in existing
    ]
    EventRole.objects.bulk_create(fresh)
    # Activities are append-only: a host who is later removed still hosted when recorded.
    _record_roles(event, fresh)


def event_create(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    frame: str,
    description: str = "",
    time_zone: str = "UTC",
    place: str = "",
    online_url: str = "",
    capacity: int | None = None,
    registration_closes_at: datetime | None = None,
    brief_audience: str = "",
    brief_reason: str = "",
    brief_offer: str = "",
    brief_payment: str = "",
    commercial_owner: Member | None = None,
    space: Space | None = None,
    group_id: int | None = None,
    organization: Organization | None = None,
    visibility: str = Visibility.MEMBERS,
    hosts: Sequence[Member] = (),
    speakers: Sequence[Member] = (),
    creator: Member | None = None,
    series: EventSeries | None = None,
    actor: User | None = None,
) -> Event:
    """Create an event. The creator hosts it unless `hosts` says otherwise.

    An event in a `space` takes the space's readership (its visibility, organisation and
    group are copied for display; access follows the space). A community event's
    description goes through the charter check: over the threshold it is saved but held.
    Records ``hosted``/``spoke`` for hosts and speakers.

    Raises ApplicationError(VALIDATION) with per-field messages; nothing is stored then.
    """
    if not hosts and creator is not None:
        hosts = [creator]
    data: dict[str, Any] = {
        "title": title,
        "description": description.replace("\r\n", "\n"),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "time_zone": time_zone,
        "place": place.strip(),
        "online_url": online_url.strip(),
        "capacity": capacity,
        "registration_closes_at": registration_closes_at,
        "frame": frame,
        "brief_audience": brief_audience.strip(),
        "brief_reason": brief_reason.strip(),
        "brief_offer": brief_offer.strip(),
        "brief_payment": brief_payment.strip(),
        "commercial_owner": commercial_owner,
        "space": space,
        "group_id": group_id,
        "organization": organization,
        "visibility": visibility,
    }
    _raise_if(_check_event(data), "The event could not be created")
    if frame != Frame.COMMERCIAL:
        data["commercial_owner"] = None
        data.update(dict.fromkeys(BRIEF_FIELDS, ""))
    if space is not None:
        data.update(visibility=space.visibility, organization=space.organization, group_id=space.group_id)
    data["title"] = title.strip()
    event = Event(**data, created_by=creator, series=series, description_html=markdown.render(data["description"]))
    _apply_charter(event)
    try:
        with transaction.atomic():
            event.save()
            _check_people(event, hosts, speakers)
            _set_roles(event, hosts, speakers)
            audit_log(actor=actor, action="convenor.event.created", obj=event, summary=event.title)
            if event.is_held:
                _notify_held(event)
    except IntegrityError as exc:
        raise ApplicationError(ErrorCode.CONFLICT, f"The event could not be saved: {exc}") from None
    return event


def _notify_held(event: Event) -> None:
    organisers = Member.objects.filter(event_roles__event=event, event_roles__role=RoleKind.HOST).select_related("user")
    _tell(
        _users(organisers),
        event,
        kind="event_held",
        title=f"“{event.title}” is held: its description reads as selling, and community events do not sell",
        key=f"event-held:{event.pk}:{event.sequence}",
    )


def event_update(
    *,
    event: Event,
    hosts: Sequence[Member] | None = None,
    speakers: Sequence[Member] | None = None,
    actor: User | None = None,
    **changes: Any,
) -> Event:
    """Change an event (an organiser's edit). Only the fields given change.

    Re-checks the description against the charter when it (or the frame) changes; raises
    SEQUENCE and tells registrants (with the new .ics) when the time or place changes;
    promotes from the waitlist when seats are added. Raises VALIDATION like event_create,
    and CONFLICT for a cancelled event or seats below those already confirmed.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise invalid(f"These fields cannot be changed: {', '.join(sorted(unknown))}")
    if event.cancelled_at is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is cancelled; it can no longer be changed")
    for key in ("place", "online_url", "title", *BRIEF_FIELDS):
        if key in changes and changes[key] is not None:
            changes[key] = str(changes[key]).strip()
    if "description" in changes:
        changes["description"] = str(changes["description"]).replace("\r\n", "\n")
    data = {name: getattr(event, name) for name in UPDATABLE}
    data["space"] = event.space
    data.update(changes)
    _raise_if(_check_event(data), "The event could not be changed")
    changed = {k for k, v in changes.items() if getattr(event, k) != v}
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if data["capacity"] is not None and "capacity" in changed:
            confirmed = locked.registrations.filter(state=RegistrationState.CONFIRMED).count()
            if data["capacity"] < confirmed:
                raise invalid(
                    f"{confirmed} people are already confirmed; cancel registrations before removing seats",
                    capacity=f"At least {confirmed}",
                )
        for name in changed:
            setattr(event, name, data[name])
        if data["frame"] != Frame.COMMERCIAL:
            event.commercial_owner = None
            for name in BRIEF_FIELDS:
                setattr(event, name, "")
        if "description" in changed:
            event.description_html = markdown.render(event.description)
        was_held = event.is_held
        if changed & {"description", "frame"}:
            _apply_charter(event)
        event.updated_at = timezone.now()
        event.sequence = locked.sequence + 1 if changed else locked.sequence
        event.save()
        if hosts is not None or speakers is not None:
            new_hosts = list(hosts) if hosts is not None else list(_role_members(event, RoleKind.HOST))
            new_speakers = list(speakers) if speakers is not None else list(_role_members(event, RoleKind.SPEAKER))
            if not new_hosts:
                raise invalid("An event needs at least one host", hosts="This field is required")
            _check_people(event, new_hosts, new_speakers)
            _set_roles(event, new_hosts, new_speakers)
        promoted = _promote(event)
        audit_log(actor=actor, action="convenor.event.updated", obj=event, summary=", ".join(sorted(changed)))
        if event.is_held and not was_held:
            _notify_held(event)
        if changed & _SCHEDULE_FIELDS:
            people = _registrants(event)
            _tell(
                _users(people),
                event,
                kind="event_changed",
                title=f"“{event.title}” has changed: check the new time or place",
                key=f"event-changed:{event.pk}:{event.sequence}",
            )
            _email_on_commit(
                people,
                event_id=event.pk,
                subject=f"Changed: {event.title}",
                body="The time or place of an event you registered for has changed. Your calendar entry is attached.",
                method="REQUEST",
            )
        _announce_promotions(event, promoted)
    return event


def _role_members(event: Event, role: str) -> list[Member]:
    return list(Member.objects.filter(event_roles__event=event, event_roles__role=role).select_related("user"))


def _registrants(event: Event) -> list[Member]:
    """Everyone confirmed or waitlisted, with their accounts."""
    return list(
        Member.objects.filter(
            registrations__event=event,
            registrations__state__in=[RegistrationState.CONFIRMED, RegistrationState.WAITLISTED],
        ).select_related("user")
    )


def event_cancel(*, event: Event, actor: User | None = None, reason: str = "") -> Event:
    """Cancel the event; registrants are told in the app and by email (with a cancelling .ics).

    Registrations keep their state, so the record shows who was coming. Raises CONFLICT
    if the event is already cancelled.
    """
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.cancelled_at is not None:
            raise ApplicationError(ErrorCode.CONFLICT, "This event is already cancelled")
        event.cancelled_at = event.updated_at = timezone.now()
        event.sequence = locked.sequence + 1
        event.save(update_fields=["cancelled_at", "updated_at", "sequence"])
        audit_log(actor=actor, action="convenor.event.cancelled", obj=event, summary=reason[:300])
        people = _registrants(event)
        _tell(
            _users(people),
            event,
            kind="event_cancelled",
            title=f"“{event.title}” is cancelled",
            key=f"event-cancelled:{event.pk}",
        )
        why = f"\n\nThe organisers say: {reason.strip()}" if reason.strip() else ""
        _email_on_commit(
            people,
            event_id=event.pk,
            subject=f"Cancelled: {event.title}",
            body=f"“{event.title}” will not take place.{why}",
            method="CANCEL",
        )
    return event


def event_release(*, event: Event, actor: User | None = None) -> Event:
    """A moderator's decision (admins and community managers) that a held community event
    does not sell after all: publish it. The organisers are told; the reasons stay on record
    in the audit log. Raises CONFLICT when the event is not held."""
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.check_state != CheckState.HELD:
            raise ApplicationError(ErrorCode.CONFLICT, "This event is not held")
        reasons = "; ".join(str(r.get("phrase", "")) for r in locked.check_reasons if isinstance(r, dict))
        event.check_state = CheckState.OK
        event.save(update_fields=["check_state"])
        audit_log(
            actor=actor,
            action="convenor.event.released",
            obj=event,
            summary=f"{event.title} (held for: {reasons})"[:300] if reasons else event.title,
        )
        organisers = Member.objects.filter(event_roles__event=event, event_roles__role=RoleKind.HOST).select_related(
            "user"
        )
        _tell(
            _users(organisers),
            event,
            kind="event_released",
            title=f"“{event.title}” is released: it is published and open for registration",
            key=f"event-released:{event.pk}:{event.sequence}",
        )
    return event


def event_recheck(*, event: Event) -> Event:
    """Run the charter check again (for events marked unchecked when the detector was missing)."""
    _apply_charter(event)
    event.save(update_fields=["check_state", "check_score", "check_reasons"])
    return event


def _mark_emailed(users: Sequence[User], key: str) -> None:
    """The event email (with its .ics) stands for the notification's own email: send one, not two."""
    Notification.objects.filter(recipient__in=[u.pk for u in users], key=key).update(emailed_at=timezone.now())


def register_url(event: Event) -> str:
    """Site-relative URL of the registration form."""
    return f"{_event_url(event)}register/"


@dataclass(frozen=True)
class Invited:
    """Who an invitation reached: `invited` newly, `again` had been invited before (not re-sent)."""

    invited: list[Member]
    again: list[Member]


def event_invite(*, event: Event, members: Sequence[Member], by: Member, now: datetime | None = None) -> Invited:
    """Invite people: each gets a notification linking to the registration form and an
    email with the event's .ics attached (``METHOD:REQUEST``). Inviting someone twice does
    not send again. Raises VALIDATION for nobody to invite or someone who could not see the
    event; CONFLICT for a cancelled, held or finished event.
    """
    now = now or timezone.now()
    if not members:
        raise invalid("Name at least one person to invite", people="Email addresses or @handles")
    if event.cancelled_at is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is cancelled")
    if event.is_held:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is held for review; invite people once it is released")
    if now >= event.ends_at:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is over")
    outsiders = [m.name for m in members if not access.event_audience_includes(m, event)]
    if outsiders:
        raise invalid(f"{', '.join(outsiders)} cannot see this event", people="Not in the event's audience")
    unique = list({m.pk: m for m in members}.values())
    key = f"event-invite:{event.pk}"
    with transaction.atomic():
        # Invitations are remembered in the audit log per invitee, so people without an
        # account are not emailed twice either.
        done = {
            d.get("member_id")
            for d in AuditEntry.objects.filter(
                action="convenor.event.invited", object_type="event", object_id=str(event.pk)
            ).values_list("data", flat=True)
            if isinstance(d, dict)
        }
        fresh = [m for m in unique if m.pk not in done]
        again = [m for m in unique if m.pk in done]
        users = _users(fresh)
        _tell(
            users,
            event,
            kind="event_invited",
            title=f"{by.name} invites you to “{event.title}” ({event.frame})",
            key=key,
            url=register_url(event),
            actor_name=by.name,
        )
        _mark_emailed(users, key)
        for member in fresh:
            audit_log(
                actor=by.user,
                action="convenor.event.invited",
                obj=event,
                summary=f"{by.name} invited {member.name}",
                data={"member_id": member.pk},
            )
        _email_on_commit(
            fresh,
            event_id=event.pk,
            subject=f"Invitation: {event.title} ({event.frame})",
            body=f"{by.name} invites you. {frame_line(event)}\n\n"
            f"Register here: {settings.CONVENOR_BASE_URL}{register_url(event)}",
            method="REQUEST",
        )
    return Invited(invited=fresh, again=again)


# --- series ---------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


MAX_HORIZON_DAYS = 3 * 366


def occurrence_starts(
    *,
    first: datetime,
    time_zone: str,
    recurrence: str,
    interval: int,
    horizon: date | None,
    dates: Sequence[datetime] = (),
    count: int | None = None,
) -> list[datetime]:
    """The start of every occurrence up to `horizon` (inclusive) or the first `count` of
    them, at most MAX_OCCURRENCES.

    Weekly and monthly occurrences keep the wall-clock time in the event's zone, so an
    18:00 meetup stays at 18:00 across daylight-saving changes; a monthly series on the
    31st falls on the last day of shorter months. Custom series use `dates` as given.
    """
    limit = min(count, MAX_OCCURRENCES) if count is not None else MAX_OCCURRENCES
    zone = ZoneInfo(time_zone)
    if recurrence == Recurrence.CUSTOM:
        every = sorted({first, *dates})
        return [d for d in every if horizon is None or d.astimezone(zone).date() <= horizon][:limit]
    local = first.astimezone(zone)
    starts: list[datetime] = []
    n = 0
    while len(starts) < limit:
        if recurrence == Recurrence.WEEKLY:
            day = local.date() + timedelta(weeks=n * interval)
        else:
            day = _add_months(local.date(), n * interval)
        if horizon is not None and day > horizon:
            break
        starts.append(datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone))
        n += 1
    return starts


def _check_series(
    *,
    recurrence: str,
    interval: int,
    horizon: date | None,
    count: int | None,
    dates: Sequence[datetime],
    first: datetime,
    zone_name: str,
) -> None:
    fields: dict[str, list[str]] = {}
    if recurrence not in Recurrence.values:
        fields["recurrence"] = [f"Choose one of: {', '.join(Recurrence.values)}"]
    if interval < 1 or interval > 52:
        fields["interval"] = ["From 1 to 52"]
    if recurrence == Recurrence.CUSTOM and not dates:
        fields["dates"] = ["A custom series lists its dates"]
    if any(timezone.is_naive(d) for d in dates):
        fields["dates"] = ["Give each date with its UTC offset"]
    if recurrence != Recurrence.CUSTOM and horizon is None and count is None:
        fields["count"] = ["Give the number of occurrences or the date the series ends"]
    if count is not None and not 2 <= count <= MAX_OCCURRENCES:
        fields["count"] = [f"From 2 to {MAX_OCCURRENCES} occurrences"]
    if horizon is not None:
        if (
            _valid_zone(zone_name)
            and not timezone.is_naive(first)
            and horizon < first.astimezone(ZoneInfo(zone_name)).date()
        ):
            fields["horizon"] = ["The series must end after its first occurrence"]
        if horizon > timezone.now().date() + timedelta(days=MAX_HORIZON_DAYS):
            fields["horizon"] = ["At most three years ahead"]
    _raise_if(fields, "The series could not be created")


def series_create(
    *,
    recurrence: str,
    horizon: date | None = None,
    interval: int = 1,
    dates: Sequence[datetime] = (),
    count: int | None = None,
    creator: Member | None = None,
    actor: User | None = None,
    **event_fields: Any,
) -> EventSeries:
    """Create a recurring series and its occurrences: up to `horizon` (inclusive, in the
    event's zone), or `count` of them, whichever comes first; custom series take `dates`.

    `event_fields` are event_create's arguments for the first occurrence (title,
    starts_at, ends_at, frame, ...); every occurrence has the same length. Each occurrence
    is an ordinary event that can be changed or cancelled on its own. All or nothing:
    raises VALIDATION (recurrence, interval, count, horizon, dates) or event_create's errors.
    """
    first: datetime = event_fields["starts_at"]
    zone_name: str = event_fields.get("time_zone", "UTC")
    _check_series(
        recurrence=recurrence,
        interval=interval,
        horizon=horizon,
        count=count,
        dates=dates,
        first=first,
        zone_name=zone_name,
    )
    zone = zone_name if _valid_zone(zone_name) else "UTC"
    if timezone.is_naive(first):
        # event_create says what is wrong with the start, field by field.
        event_create(**event_fields, creator=creator, actor=actor)
    starts = occurrence_starts(
        first=first, time_zone=zone, recurrence=recurrence, interval=interval, horizon=horizon, dates=dates, count=count
    )
    length = event_fields["ends_at"] - first
    closes = event_fields.get("registration_closes_at")
    lead = first - closes if closes is not None else None
    with transaction.atomic():
        series = EventSeries.objects.create(
            title=str(event_fields.get("title", "")).strip()[:200],
            recurrence=recurrence,
            interval=interval,
            horizon=horizon or starts[-1].astimezone(ZoneInfo(zone)).date(),
            created_by=creator,
        )
        for start in starts:
            one = {**event_fields, "starts_at": start, "ends_at": start + length}
            if lead is not None:
                one["registration_closes_at"] = start - lead
            event_create(**one, creator=creator, series=series, actor=actor)
    return series


def _copy_fields(event: Event) -> dict[str, Any]:
    """event_create's arguments that make another occurrence like `event`."""
    fields: dict[str, Any] = {name: getattr(event, name) for name in UPDATABLE - {"organization", "group_id"}}
    fields.update(
        space=event.space,
        organization=event.organization,
        group_id=event.group_id,
        hosts=_role_members(event, RoleKind.HOST),
        speakers=_role_members(event, RoleKind.SPEAKER),
    )
    return fields


def _add_occurrences(
    series: EventSeries, template: Event, starts: Sequence[datetime], actor: User | None
) -> list[Event]:
    fields = _copy_fields(template)
    length = template.ends_at - template.starts_at
    lead = template.starts_at - template.registration_closes_at if template.registration_closes_at else None
    made = []
    for start in starts:
        one = {**fields, "starts_at": start, "ends_at": start + length}
        one["registration_closes_at"] = start - lead if lead is not None else None
        made.append(event_create(**one, creator=series.created_by, series=series, actor=actor))
    return made


def series_from_event(
    *,
    event: Event,
    recurrence: str,
    horizon: date | None = None,
    interval: int = 1,
    dates: Sequence[datetime] = (),
    count: int | None = None,
    actor: User | None = None,
) -> EventSeries:
    """ "Make this recurring": `event` becomes the first occurrence of a new series, and the
    next ones are created like it (same length, place, frame, brief, hosts, speakers).
    Raises CONFLICT for an event already in a series or cancelled; VALIDATION like series_create.
    """
    if event.series_id is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is already part of a series")
    if event.cancelled_at is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is cancelled")
    _check_series(
        recurrence=recurrence,
        interval=interval,
        horizon=horizon,
        count=count,
        dates=dates,
        first=event.starts_at,
        zone_name=event.time_zone,
    )
    starts = occurrence_starts(
        first=event.starts_at,
        time_zone=event.time_zone,
        recurrence=recurrence,
        interval=interval,
        horizon=horizon,
        dates=dates,
        count=count,
    )
    with transaction.atomic():
        series = EventSeries.objects.create(
            title=event.title,
            recurrence=recurrence,
            interval=interval,
            horizon=horizon or starts[-1].astimezone(ZoneInfo(event.time_zone)).date(),
            created_by=event.created_by,
        )
        Event.objects.filter(pk=event.pk).update(series=series)
        event.series = series
        _add_occurrences(series, event, [s for s in starts if s != event.starts_at], actor)
    return series


def series_extend(*, series: EventSeries, horizon: date, actor: User | None = None) -> list[Event]:
    """Move a weekly or monthly series' horizon later and create the occurrences up to it,
    like the latest one. Returns the new events. Raises VALIDATION for a custom series, a
    horizon that is not later, or one more than three years ahead.
    """
    occurrences = list(series.occurrences.order_by("starts_at", "pk"))
    fields: dict[str, list[str]] = {}
    if series.recurrence == Recurrence.CUSTOM:
        fields["recurrence"] = ["A custom series has no rule to extend: create its extra dates as events"]
    if horizon <= series.horizon:
        fields["horizon"] = [f"Choose a date after {series.horizon:%d %b %Y}"]
    if horizon > timezone.now().date() + timedelta(days=MAX_HORIZON_DAYS):
        fields["horizon"] = ["At most three years ahead"]
    if not occurrences:
        fields["horizon"] = ["The series has no occurrences left to repeat"]
    _raise_if(fields, "The series could not be extended")
    first, last = occurrences[0], occurrences[-1]
    starts = occurrence_starts(
        first=first.starts_at,
        time_zone=first.time_zone,
        recurrence=series.recurrence,
        interval=series.interval,
        horizon=horizon,
        count=len(occurrences) + MAX_OCCURRENCES,
    )
    later = [s for s in starts if s > last.starts_at][: max(0, MAX_OCCURRENCES - len(occurrences))]
    with transaction.atomic():
        made = _add_occurrences(series, last, later, actor)
        series.horizon = horizon
        series.save(update_fields=["horizon"])
    return made


# --- registrations --------------------------------------------------------------------------


class FrameMismatch(ApplicationError):
    """The registrant's intent does not match the event's frame; they may confirm and go on.

    ``alternatives`` are the commercial route for a buyer (our upcoming commercial events
    they can see); empty for a user at a commercial event.
    """

    def __init__(self, message: str, *, alternatives: list[Event]) -> None:
        super().__init__(ErrorCode.FRAME_MISMATCH, message, fields={"acknowledge_frame": [message]})
        self.alternatives = alternatives


def commercial_route(*, member: Member, exclude: Event | None = None, limit: int = 3) -> list[Event]:
    """Upcoming commercial events the member can see: where a buyer's questions belong."""
    qs = (
        access.visible_events(member.user) if member.user is not None else Event.objects.filter(visibility="public")
    ).filter(frame=Frame.COMMERCIAL, cancelled_at__isnull=True, starts_at__gte=timezone.now())
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs.order_by("starts_at", "pk")[:limit])


def mismatch_notice(event: Event, intent: str, member: Member) -> FrameMismatch | None:
    """The plain notice a registrant gets when their intent does not fit the frame, or None."""
    if intent == Intent.BUYER and event.frame == Frame.COMMUNITY:
        route = commercial_route(member=member, exclude=event)
        if route:
            listed = "; ".join(f"“{e.title}” on {e.starts_at:%d %b %Y}" for e in route)
            offer = f" For buying questions, our commercial events are the place: {listed}."
        else:
            offer = " For buying questions, ask our team for a commercial session or a contact."
        return FrameMismatch(
            f"“{event.title}” is a community session: users help one another get more out of what they use, "
            f"and nothing is sold or priced there.{offer} You can still register if you confirm.",
            alternatives=route,
        )
    if intent == Intent.USER and event.frame == Frame.COMMERCIAL:
        return FrameMismatch(
            f"“{event.title}” is a sales session: it presents {event.brief_offer} to {event.brief_audience}, "
            f"and it is not a users' get-together. You can still register if you confirm.",
            alternatives=[],
        )
    return None


def _next_position(event: Event) -> int:
    top = Registration.objects.filter(event=event, state=RegistrationState.WAITLISTED).aggregate(
        m=Max("waitlist_position")
    )["m"]
    return (top or 0) + 1


def registration_create(
    *, event: Event, member: Member, intent: str, acknowledged: bool = False, now: datetime | None = None
) -> Registration:
    """Register `member` for `event` with their `intent`; confirmed while seats remain,
    otherwise waitlisted at the end of the queue.

    The event row is locked (select_for_update; on SQLite the IMMEDIATE transaction mode
    serialises writers), so concurrent registrations can never exceed the capacity.
    Records ``registered`` (data ``{"intent": ...}``); a buyer registration also records
    ``prospected`` from the event's commercial owner to the registrant.

    Raises NOT_FOUND when the member cannot see the event; VALIDATION for an unknown
    intent; CONFLICT when the event is cancelled, held or closed for registration;
    DUPLICATE when already registered; FRAME_MISMATCH (a :class:`FrameMismatch`) when the
    intent does not fit the frame, unless `acknowledged`.
    """
    if intent not in Intent.values:
        raise invalid(f"{intent!r} is not an intent", intent="Choose user, buyer or other")
    if not access.event_audience_includes(member, event) and not _is_organiser_member(member, event):
        raise not_found("No such event")
    now = now or timezone.now()
    with transaction.atomic():
        # The lock that guards the capacity rule: every registration and cancellation of
        # this event queues here, so counting then inserting cannot race.
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.cancelled_at is not None:
            raise ApplicationError(ErrorCode.CONFLICT, "This event is cancelled")
        if locked.check_state == CheckState.HELD:
            raise ApplicationError(ErrorCode.CONFLICT, "This event is held for review and not open yet")
        if now >= locked.closes_at:
            raise ApplicationError(
                ErrorCode.CONFLICT, f"Registration closed on {locked.closes_at:%d %b %Y at %H:%M} UTC"
            )
        if Registration.objects.filter(event=locked, member=member).exclude(state=RegistrationState.CANCELLED).exists():
            raise ApplicationError(ErrorCode.DUPLICATE, "You are already registered for this event")
        notice = mismatch_notice(locked, intent, member)
        if notice is not None and not acknowledged:
            raise notice
        confirmed = Registration.objects.filter(event=locked, state=RegistrationState.CONFIRMED).count()
        full = locked.capacity is not None and confirmed >= locked.capacity
        try:
            with transaction.atomic():
                reg = Registration.objects.create(
                    event=locked,
                    member=member,
                    intent=intent,
                    state=RegistrationState.WAITLISTED if full else RegistrationState.CONFIRMED,
                    waitlist_position=_next_position(locked) if full else None,
                    acknowledged_frame_mismatch=notice is not None,
                    created_at=now,
                )
        except IntegrityError:
            raise ApplicationError(ErrorCode.DUPLICATE, "You are already registered for this event") from None
        record(
            actor=member,
            verb=Verb.REGISTERED,
            origin_id=f"event-registration:{reg.pk}",
            object_kind=PLACE,
            object_id=locked.pk,
            place_kind=PLACE,
            place_id=locked.pk,
            occurred_at=now,
            data={"intent": intent},
        )
        if intent == Intent.BUYER and locked.commercial_owner_id is not None:
            owner = Member.objects.get(pk=locked.commercial_owner_id)
            if owner.pk != member.pk:
                record(
                    actor=owner,
                    verb=Verb.PROSPECTED,
                    origin_id=f"event-prospect:{reg.pk}",
                    target_member=member,
                    object_kind=PLACE,
                    object_id=locked.pk,
                    place_kind=PLACE,
                    place_id=locked.pk,
                    occurred_at=now,
                    data={"intent": Intent.BUYER.value},
                )
        _tell_registrant(locked, reg, member)
    event.refresh_from_db()
    return reg


def _is_organiser_member(member: Member, event: Event) -> bool:
    return (
        event.created_by_id == member.pk
        or event.commercial_owner_id == member.pk
        or EventRole.objects.filter(event=event, member=member).exists()
    )


def _tell_registrant(event: Event, reg: Registration, member: Member) -> None:
    if reg.state == RegistrationState.CONFIRMED:
        title = f"You are registered for “{event.title}” ({event.frame})"
        body = f"Your seat is confirmed. {frame_line(event)}"
    else:
        title = f"You are on the waitlist for “{event.title}” ({event.frame})"
        body = (
            f"The event is full; you are on the waitlist and will hear from us if a seat frees up. {frame_line(event)}"
        )
    _tell(_users([member]), event, kind="event_registered", title=title, key=f"event-registration:{reg.pk}:{reg.state}")
    if reg.state == RegistrationState.CONFIRMED:
        _email_on_commit([member], event_id=event.pk, subject=f"Registered: {event.title}", body=body, method="REQUEST")


def _promote(event: Event) -> list[Registration]:
    """Fill free seats from the waitlist, first in line first. Call with the event locked."""
    if event.capacity is None:
        waiting = list(Registration.objects.filter(event=event, state=RegistrationState.WAITLISTED))
    else:
        confirmed = Registration.objects.filter(event=event, state=RegistrationState.CONFIRMED).count()
        free = max(0, event.capacity - confirmed)
        waiting = list(
            Registration.objects.filter(event=event, state=RegistrationState.WAITLISTED).order_by(
                "waitlist_position", "pk"
            )[:free]
        )
    for reg in waiting:
        reg.state, reg.waitlist_position = RegistrationState.CONFIRMED, None
        reg.save(update_fields=["state", "waitlist_position"])
    return waiting


def _announce_promotions(event: Event, promoted: list[Registration]) -> None:
    for reg in promoted:
        member = Member.objects.select_related("user").get(pk=reg.member_id)
        _tell(
            _users([member]),
            event,
            kind="event_promoted",
            title=f"A seat freed up: you are now registered for “{event.title}”",
            key=f"event-registration:{reg.pk}:confirmed",
        )
        _email_on_commit(
            [member],
            event_id=event.pk,
            subject=f"You have a seat: {event.title}",
            body=f"A seat freed up and it is yours. {frame_line(event)}",
            method="REQUEST",
        )


def registration_cancel(*, registration: Registration, actor: User | None = None) -> Registration:
    """Cancel a registration (the registrant or an organiser); the first on the waitlist
    takes the freed seat and is told. Raises CONFLICT if it is already cancelled or the
    event is over."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        reg = Registration.objects.get(pk=registration.pk)
        if reg.state == RegistrationState.CANCELLED:
            raise ApplicationError(ErrorCode.CONFLICT, "This registration is already cancelled")
        if timezone.now() >= event.ends_at:
            raise ApplicationError(ErrorCode.CONFLICT, "The event is over; its registrations are kept as they are")
        reg.state, reg.waitlist_position, reg.cancelled_at = RegistrationState.CANCELLED, None, timezone.now()
        reg.save(update_fields=["state", "waitlist_position", "cancelled_at"])
        promoted = _promote(event) if event.cancelled_at is None else []
        if actor is not None and reg.member.user_id != actor.pk:
            audit_log(actor=actor, action="convenor.event.registration_cancelled", obj=reg, summary=reg.member.name)
        _announce_promotions(event, promoted)
    registration.refresh_from_db()
    return registration


def _check_attendance(reg: Registration) -> Event:
    event = reg.event
    if event.cancelled_at is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is cancelled")
    if reg.state != RegistrationState.CONFIRMED:
        raise ApplicationError(ErrorCode.CONFLICT, f"{reg.member.name}'s registration is {reg.state}, not confirmed")
    return event


def checkin(*, registration: Registration, now: datetime | None = None) -> Registration:
    """Check a confirmed registrant in (an organiser's one click). Records ``attended``.

    Idempotent: checking in twice keeps the first time. Raises CONFLICT for a cancelled
    event or a registration that is not confirmed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        reg = Registration.objects.select_for_update().select_related("event", "member").get(pk=registration.pk)
        event = _check_attendance(reg)
        if reg.attended_at is None:
            reg.attended_at, reg.no_show = now, False
            reg.save(update_fields=["attended_at", "no_show"])
            record(
                actor=reg.member,
                verb=Verb.ATTENDED,
                origin_id=f"event-attended:{event.pk}:{reg.member_id}",
                object_kind=PLACE,
                object_id=event.pk,
                place_kind=PLACE,
                place_id=event.pk,
                occurred_at=now,
            )
    registration.refresh_from_db()
    return registration


def mark_no_show(*, registration: Registration, no_show: bool = True, now: datetime | None = None) -> Registration:
    """Mark (or unmark) a confirmed registrant who did not come, once the event has started.

    Raises CONFLICT before the start, for someone checked in, or for a registration that is
    not confirmed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        reg = Registration.objects.select_for_update().select_related("event", "member").get(pk=registration.pk)
        event = _check_attendance(reg)
        if now < event.starts_at:
            raise ApplicationError(ErrorCode.CONFLICT, "No-shows are marked once the event has started")
        if reg.attended_at is not None and no_show:
            raise ApplicationError(ErrorCode.CONFLICT, f"{reg.member.name} is checked in")
        reg.no_show = no_show
        reg.save(update_fields=["no_show"])
    registration.refresh_from_db()
    return registration


# --- surveys --------------------------------------------------------------------------------


def survey_submit(
    *, registration: Registration, member: Member, fit: int, comment: str = "", now: datetime | None = None
) -> Survey:
    """An attendee answers "Was the session what its framing promised?" (1 to 5) once, after the event.

    Raises PERMISSION_DENIED for someone else's registration; CONFLICT before the event
    ends or for someone who was not checked in; DUPLICATE for a second answer;
    VALIDATION for a fit outside 1 to 5 or a comment over 2,000 characters.
    """
    now = now or timezone.now()
    if registration.member_id != member.pk:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only the attendee answers their survey")
    fields: dict[str, list[str]] = {}
    if not isinstance(fit, int) or isinstance(fit, bool) or not 1 <= fit <= 5:
        fields["fit"] = ["From 1 (not at all) to 5 (exactly)"]
    if len(comment) > MAX_COMMENT_CHARS:
        fields["comment"] = [f"At most {MAX_COMMENT_CHARS:,} characters"]
    _raise_if(fields, "The survey could not be saved")
    event = registration.event
    if now < event.ends_at:
        raise ApplicationError(ErrorCode.CONFLICT, "The survey opens when the event is over")
    if registration.attended_at is None:
        raise ApplicationError(ErrorCode.CONFLICT, "Only people who attended answer the survey")
    try:
        with transaction.atomic():
            return Survey.objects.create(registration=registration, fit=fit, comment=comment.strip(), created_at=now)
    except IntegrityError:
        raise ApplicationError(ErrorCode.DUPLICATE, "You already answered this survey") from None


def survey_url(event: Event) -> str:
    """Site-relative URL of the survey page."""
    return f"{_event_url(event)}survey/"


def survey_invite(*, event: Event, now: datetime | None = None) -> int:
    """Ask everyone checked in at a finished event for the two-question survey: a
    notification and an email with the link. Returns how many were newly asked; running it
    again asks nobody twice. Attendees without an account are not asked (the survey page
    needs a login). Raises CONFLICT before the event ends or for a cancelled event.
    """
    now = now or timezone.now()
    if event.cancelled_at is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This event is cancelled")
    if now < event.ends_at:
        raise ApplicationError(ErrorCode.CONFLICT, "The survey opens when the event is over")
    key = f"event-survey:{event.pk}"
    asked = Notification.objects.filter(key=key).values("recipient_id")
    answered = Survey.objects.filter(registration__event=event).values("registration__member_id")
    attendees = (
        Member.objects.filter(
            registrations__event=event,
            registrations__state=RegistrationState.CONFIRMED,
            registrations__attended_at__isnull=False,
            user__isnull=False,
            user__is_active=True,
        )
        .exclude(user_id__in=asked)
        .exclude(pk__in=answered)
        .select_related("user")
        .distinct()
    )
    people = list(attendees)
    if not people:
        return 0
    link = f"{settings.CONVENOR_BASE_URL}{survey_url(event)}"
    with transaction.atomic():
        users = _users(people)
        count = _tell(
            users,
            event,
            kind="event_survey",
            title=f"Was “{event.title}” what its framing promised? Two questions",
            key=key,
            url=survey_url(event),
        )
        _mark_emailed(users, key)
        ids = [m.pk for m in people]
        subject = f"Two questions about {event.title}"
        body = (
            f"Thank you for coming to “{event.title}”. {frame_line(event)}\n\n"
            "Was the session what its framing promised? Tell us from 1 (not at all) to 5 (exactly), "
            f"and add a comment if you like. It takes a minute:\n{link}"
        )

        def send() -> None:
            for member in Member.objects.filter(pk__in=ids):
                if _wants_email(member):
                    assert member.email is not None
                    EmailMessage(
                        subject=f"[{settings.SITE_NAME}] {subject}",
                        body=body,
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        to=[member.email],
                    ).send(fail_silently=True)

        transaction.on_commit(send)
    return count


SURVEY_WINDOW_DAYS = 30


def surveys_send(*, now: datetime | None = None, days: int = SURVEY_WINDOW_DAYS) -> dict[int, int]:
    """For cron: ask the attendees of every event that ended in the last `days` days (and is
    not cancelled) for the survey. Idempotent: each attendee is asked once, and only after
    the event ended. Returns {event id: people newly asked} for events where someone was."""
    now = now or timezone.now()
    events = Event.objects.filter(
        ends_at__lte=now, ends_at__gte=now - timedelta(days=days), cancelled_at__isnull=True
    ).order_by("ends_at", "pk")
    sent: dict[int, int] = {}
    for event in events:
        count = survey_invite(event=event, now=now)
        if count:
            sent[event.pk] = count
    return sent


@dataclass(frozen=True)
class Recount:
    confirmed: int
    waitlisted: int


def registration_recount(*, event: Event) -> Recount:
    """Repair the waitlist after manual edits: promote into free seats. Returns the counts."""
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        promoted = _promote(locked)
        _announce_promotions(locked, promoted)
        qs = Registration.objects.filter(event=locked)
        return Recount(
            confirmed=qs.filter(state=RegistrationState.CONFIRMED).count(),
            waitlisted=qs.filter(state=RegistrationState.WAITLISTED).count(),
        )
