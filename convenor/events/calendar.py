"""iCalendar files: one per event, and subscribable feeds per space and per member.

Times are written in the event's own time zone with a VTIMEZONE block (UTC events are
written in UTC), so a calendar client shows "18:00 Paris time" rather than a converted
guess. Every change a calendar must pick up raises the event's SEQUENCE; a cancelled event
is sent with STATUS:CANCELLED so clients strike it out.

Private feeds carry a signed token in their URL (django.core.signing), because calendar
clients cannot log in. A token names its member (and space) and never expires; a space
feed stops answering when that member can no longer read the space.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from convenor.events.models import Event, Frame

PRODID = "-//Convenor//Events//EN"
_SPACE_SALT = "convenor.events.feed.space"
_MEMBER_SALT = "convenor.events.feed.member"


def _host() -> str:
    return urlsplit(settings.CONVENOR_BASE_URL).hostname or "convenor.local"


def event_uid(event: Event) -> str:
    """Stable for the event's life, so updates and cancellations replace the same entry."""
    return f"event-{event.pk}@{_host()}"


def event_url(event: Event) -> str:
    """The absolute URL of the event's page (served by the web app once it has one)."""
    return f"{settings.CONVENOR_BASE_URL}/events/{event.pk}/"


def ics_url(event: Event) -> str:
    """The absolute URL of the event's .ics file."""
    return f"{settings.CONVENOR_BASE_URL}{reverse('events:event_ics', args=[event.pk])}"


def describe(event: Event) -> str:
    """The plain-text DESCRIPTION: the frame first, then the brief (commercial), then the text."""
    if event.frame == Frame.COMMERCIAL:
        lines = ["Commercial event: a sales session. The brief:"]
        lines += [f"- {label}: {text}" for label, text in event.brief.items()]
    else:
        lines = ["Community event: people who use the product helping one another; nothing is sold here."]
    if event.description.strip():
        lines += ["", event.description.strip()]
    lines += ["", event_url(event)]
    return "\n".join(lines)


def _vevent(event: Event, stamp: datetime) -> icalendar.Event:
    zone = ZoneInfo(event.time_zone)
    vevent = icalendar.Event()
    vevent.add("uid", event_uid(event))
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.starts_at.astimezone(zone))
    vevent.add("dtend", event.ends_at.astimezone(zone))
    vevent.add("summary", event.title)
    vevent.add("description", describe(event))
    vevent.add("categories", [event.frame.capitalize()])
    vevent.add("sequence", event.sequence)
    vevent.add("created", event.created_at)
    vevent.add("last-modified", event.updated_at)
    location = event.place or event.online_url
    if location:
        vevent.add("location", location)
    vevent.add("url", event.online_url or event_url(event))
    vevent.add("status", "CANCELLED" if event.cancelled_at is not None else "CONFIRMED")
    return vevent


def calendar_bytes(events: Iterable[Event], *, name: str = "", method: str = "PUBLISH") -> bytes:
    """A VCALENDAR holding `events`, with the VTIMEZONE blocks their times need."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    stamp = timezone.now()
    for event in events:
        cal.add_component(_vevent(event, stamp))
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data


def event_ics(event: Event, *, method: str = "PUBLISH") -> bytes:
    """The .ics file of one event (``method="CANCEL"`` for a cancellation email)."""
    return calendar_bytes([event], name=event.title, method=method)


# --- feed tokens ----------------------------------------------------------------------------


def space_feed_token(space_id: int, member_id: int) -> str:
    """A token for one member's subscription to one space's feed."""
    return signing.dumps({"s": space_id, "m": member_id}, salt=_SPACE_SALT, compress=True)


def space_from_token(token: str) -> tuple[int, int] | None:
    """(space id, member id) from a space feed token, or None if it is not one of ours."""
    try:
        data = signing.loads(token, salt=_SPACE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    space_id, member_id = data.get("s"), data.get("m")
    if isinstance(space_id, int) and isinstance(member_id, int):
        return space_id, member_id
    return None


def member_feed_token(member_id: int) -> str:
    return signing.dumps({"m": member_id}, salt=_MEMBER_SALT, compress=True)


def member_from_token(token: str) -> int | None:
    try:
        data = signing.loads(token, salt=_MEMBER_SALT)
    except signing.BadSignature:
        return None
    value = data.get("m") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def space_feed_url(space_slug: str, space_id: int, *, member_id: int | None = None) -> str:
    """The absolute feed URL of a space. Pass `member_id` for a space that is not public:
    the URL then carries that member's token."""
    url = f"{settings.CONVENOR_BASE_URL}{reverse('events:space_feed', args=[space_slug])}"
    return f"{url}?token={space_feed_token(space_id, member_id)}" if member_id is not None else url


def member_feed_url(member_id: int) -> str:
    """The absolute URL of a member's own feed (the events they registered for)."""
    return f"{settings.CONVENOR_BASE_URL}{reverse('events:member_feed', args=[member_feed_token(member_id)])}"
