"""The three calendar endpoints: an event's .ics, a space's feed, a member's feed.

Calendar clients cannot log in, so private feeds are opened by the signed token in their
URL (see convenor/events/calendar.py); a logged-in browser session works as well. Anything
the requester may not see answers 404, as everywhere else.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from convenor.core import access
from convenor.core.errors import ApplicationError
from convenor.events import calendar as ics
from convenor.events.models import Event, RegistrationState
from convenor.people.models import Member


def _ics_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # Feeds change; clients poll them. Private ones must not sit in shared caches.
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def event_ics(request: HttpRequest, event_id: int) -> HttpResponse:
    """/events/<id>.ics for anyone who may see the event."""
    try:
        event = access.event_for_view(request.user, event_id)
    except ApplicationError:
        raise Http404("No such event") from None
    return _ics_response(ics.event_ics(event), f"event-{event.pk}.ics")


@require_GET
def space_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """/events/calendar/space/<slug>.ics: the space's events (public spaces need no token;
    others take ?token= from a member who can read the space)."""
    user = request.user
    token = request.GET.get("token", "")
    parsed: tuple[int, int] | None = None
    if token:
        parsed = ics.space_from_token(token)
        member = Member.objects.select_related("user").filter(pk=parsed[1]).first() if parsed else None
        if member is None or member.user is None or not member.user.is_active:
            raise Http404("No such calendar")
        user = member.user
    space = access.visible_spaces(user).filter(slug=slug).first()
    if space is None or (parsed is not None and parsed[0] != space.pk):
        raise Http404("No such calendar")
    events = access.visible_events(user).filter(space=space).order_by("starts_at", "pk")
    return _ics_response(ics.calendar_bytes(events, name=f"{space.name}: events"), f"{space.slug}.ics")


@require_GET
def member_feed(request: HttpRequest, token: str) -> HttpResponse:
    """/events/calendar/member/<token>.ics: the events the token's member registered for,
    cancelled events included (so calendars strike them out)."""
    member_id = ics.member_from_token(token)
    member = Member.objects.select_related("user").filter(pk=member_id).first() if member_id else None
    if member is None:
        raise Http404("No such calendar")
    viewer = member.user if member.user is not None else AnonymousUser()
    events = (
        Event.objects.filter(
            registrations__member=member,
            registrations__state__in=[RegistrationState.CONFIRMED, RegistrationState.WAITLISTED],
            pk__in=access.visible_events(viewer).values("pk"),
        )
        .distinct()
        .order_by("starts_at", "pk")
    )
    return _ics_response(ics.calendar_bytes(events, name=f"{member.name}: my events"), "my-events.ics")
