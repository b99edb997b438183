"""Calendar files load back with the icalendar library, with the fields a client needs."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.test import Client

from convenor.core.testing import World
from convenor.events import calendar as ics
from convenor.events.models import Event, Intent, Visibility
from convenor.events.services import event_cancel, event_update, registration_create
from convenor.spaces.models import Space

from .conftest import BRIEF, make_event


def vevents(data: bytes) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return [c for c in cal.walk("VEVENT") if isinstance(c, icalendar.Event)]


def test_an_event_file_has_its_time_zone_frame_and_place(world: World, meetup: Event) -> None:
    data = ics.event_ics(meetup)
    cal = icalendar.Calendar.from_ical(data)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    (ev,) = vevents(data)
    assert str(ev["UID"]) == ics.event_uid(meetup)
    start = ev.decoded("DTSTART")
    assert start == meetup.starts_at and start.tzinfo is not None and str(start.tzinfo) == "Europe/Paris"
    assert ev.decoded("DTEND") == meetup.ends_at
    assert str(ev["SUMMARY"]) == meetup.title
    assert str(ev["DESCRIPTION"]).startswith("Community event")
    assert str(ev["LOCATION"]) == "Lyon office, 3rd floor"
    assert str(ev["STATUS"]) == "CONFIRMED" and ev.decoded("SEQUENCE") == 0


def test_a_commercial_event_file_states_its_brief(world: World, pitch: Event) -> None:
    (ev,) = vevents(ics.event_ics(pitch))
    description = str(ev["DESCRIPTION"])
    assert description.startswith("Commercial event: a sales session")
    for text in BRIEF.values():
        assert text in description
    assert str(ev["URL"]) == "https://meet.example/pro"


def test_changes_raise_the_sequence_and_cancelling_sets_the_status(world: World, meetup: Event) -> None:
    event_update(event=meetup, place="Lyon office, 4th floor")
    event_cancel(event=meetup)
    (ev,) = vevents(ics.event_ics(meetup, method="CANCEL"))
    assert str(ev["STATUS"]) == "CANCELLED" and ev.decoded("SEQUENCE") == 2
    assert str(ev["LOCATION"]) == "Lyon office, 4th floor"


def test_utc_events_need_no_vtimezone(world: World) -> None:
    event = make_event(world, time_zone="UTC")
    cal = icalendar.Calendar.from_ical(ics.event_ics(event))
    assert list(cal.walk("VTIMEZONE")) == []
    assert cal.walk("VEVENT")[0].decoded("DTSTART").astimezone(ZoneInfo("UTC")) == event.starts_at


def test_the_event_ics_endpoint_follows_access(world: World, acme_client: Client, globex_client: Client) -> None:
    event = make_event(world, visibility=Visibility.ACCOUNT, organization=world.acme)
    url = f"/events/{event.pk}.ics"
    resp = acme_client.get(url)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    assert vevents(resp.content)[0]["SUMMARY"] == event.title
    assert globex_client.get(url).status_code == 404
    assert Client().get(url).status_code == 404
    public = make_event(world, visibility=Visibility.PUBLIC, title="Open day")
    assert Client().get(f"/events/{public.pk}.ics").status_code == 200


def test_a_private_space_feed_needs_a_readers_token(world: World, acme_space: Space) -> None:
    event = make_event(world, space=acme_space)
    make_event(world, title="Not in the space")
    anon = Client()
    path = f"/events/calendar/space/{acme_space.slug}.ics"
    assert anon.get(path).status_code == 404
    good = anon.get(path, {"token": ics.space_feed_token(acme_space.pk, world.acme_member.pk)})
    assert good.status_code == 200
    assert [str(e["SUMMARY"]) for e in vevents(good.content)] == [event.title]
    # A Globex person's token does not open Acme's space, nor does a forged one.
    assert anon.get(path, {"token": ics.space_feed_token(acme_space.pk, world.globex_member.pk)}).status_code == 404
    assert anon.get(path, {"token": "forged"}).status_code == 404
    assert ics.space_feed_url(acme_space.slug, acme_space.pk, member_id=world.acme_member.pk).startswith("http")


def test_a_members_feed_lists_their_registrations_cancelled_ones_struck_out(world: World, meetup: Event) -> None:
    other = make_event(world, title="Other meetup")
    make_event(world, title="Not registered")
    registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    registration_create(event=other, member=world.acme_member, intent=Intent.USER)
    event_cancel(event=other)
    url = ics.member_feed_url(world.acme_member.pk)
    resp = Client().get(url.removeprefix(settings.CONVENOR_BASE_URL))
    assert resp.status_code == 200
    found = {str(e["SUMMARY"]): str(e["STATUS"]) for e in vevents(resp.content)}
    assert found == {meetup.title: "CONFIRMED", other.title: "CANCELLED"}
    assert Client().get("/events/calendar/member/not-a-token.ics").status_code == 404
