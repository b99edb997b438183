"""The event pages, through Django's test client: list, event page, registering with the
frame-mismatch notice, the organisers' form, dashboard and check-in, the survey, the report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from convenor.core.testing import World
from convenor.events import charter
from convenor.events.charter import CharterVerdict
from convenor.events.models import CheckState, Event, Frame, Intent, Registration, RegistrationState, Survey
from convenor.events.services import checkin, registration_create
from convenor.events.tests.conftest import BRIEF, make_event, soon
from convenor.spaces.models import Space

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return response.content.decode()  # type: ignore[no-any-return]  # test client responses carry bytes


@pytest.fixture(autouse=True)
def _charter_ok() -> Iterator[None]:
    """Descriptions pass the charter unless a test says otherwise (no model file needed)."""
    previous = charter.set_policy(lambda text: CharterVerdict(state=CheckState.OK, score=0.01))
    yield
    charter.set_policy(previous)


@pytest.fixture
def meetup(world: World) -> Event:
    return make_event(world, capacity=10)


@pytest.fixture
def pitch(world: World) -> Event:
    return make_event(
        world,
        title="Pipelines Pro for data teams",
        frame=Frame.COMMERCIAL,
        commercial_owner=world.admin_member,
        online_url="https://meet.example/pro",
        place="",
        **BRIEF,
    )


def _form(**overrides: str) -> dict[str, str]:
    start = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT18:00")
    end = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT20:00")
    data = {
        "title": "Scheduling loads, together",
        "frame": "community",
        "description": "Users show how they schedule their loads.",
        "starts_at": start,
        "ends_at": end,
        "time_zone": "Europe/Paris",
        "place": "Lyon office",
        "online_url": "",
        "capacity": "20",
        "registration_closes_at": "",
        "space": "",
        "visibility": "members",
        "organization": "",
        "hosts": "",
        "speakers": "",
        "commercial_owner": "",
        **dict.fromkeys(BRIEF, ""),
    }
    data.update(overrides)
    return data


# --- the list and the event page ------------------------------------------------------------


def test_list_shows_upcoming_and_past_with_frame_badges_and_filters(
    admin_client: Client, world: World, meetup: Event, pitch: Event
) -> None:
    past = make_event(world, title="Last spring meetup", starts_at=soon(-30), ends_at=soon(-30, 2))
    page = _text(admin_client.get(reverse("events:event_list")))
    assert meetup.title in page and pitch.title in page and past.title not in page
    assert 'class="badge frame-commercial"' in page and 'class="badge frame-community"' in page
    past_page = _text(admin_client.get(reverse("events:event_list"), {"when": "past"}))
    assert past.title in past_page and meetup.title not in past_page
    commercial = _text(admin_client.get(reverse("events:event_list"), {"frame": "commercial"}))
    assert pitch.title in commercial and meetup.title not in commercial
    empty = _text(admin_client.get(reverse("events:event_list"), {"q": "nothing like this"}))
    assert "No upcoming events match these filters" in empty
    assert 'href="/events/"' in _text(admin_client.get(reverse("web:space_list")))  # the top nav


def test_list_filters_by_space_and_organisation(admin_client: Client, world: World, lounge: Space) -> None:
    in_space = make_event(world, title="Lounge evening", space=lounge)
    account = make_event(world, title="Acme workshop", visibility="account", organization=world.acme)
    other = make_event(world, title="Open evening")
    by_space = _text(admin_client.get(reverse("events:event_list"), {"space": lounge.pk}))
    assert in_space.title in by_space and other.title not in by_space
    by_org = _text(admin_client.get(reverse("events:event_list"), {"organization": world.acme.pk}))
    assert account.title in by_org and other.title not in by_org


def test_community_event_page_states_the_frame_time_zone_seats_and_links(
    acme_client: Client, world: World, meetup: Event
) -> None:
    page = _text(acme_client.get(reverse("events:event_detail", args=[meetup.pk])))
    assert "Community session" in page and "no selling" in page
    assert "(Europe/Paris)" in page
    assert "10 left" in page
    assert reverse("events:event_ics", args=[meetup.pk]) in page
    assert reverse("events:event_register", args=[meetup.pk]) in page
    assert "Ada Admin" in page  # the host
    assert reverse("events:event_dashboard", args=[meetup.pk]) not in page  # not an organiser


def test_commercial_event_page_shows_the_brief(acme_client: Client, pitch: Event) -> None:
    page = _text(acme_client.get(reverse("events:event_detail", args=[pitch.pk])))
    assert "Commercial event" in page
    for text in BRIEF.values():
        assert text in page
    assert "https://meet.example/pro" in page


def test_a_globex_member_gets_404_for_an_acme_account_event(
    globex_client: Client, acme_client: Client, world: World
) -> None:
    secret = make_event(world, title="Acme renewal workshop", visibility="account", organization=world.acme)
    assert acme_client.get(reverse("events:event_detail", args=[secret.pk])).status_code == 200
    for name in ("event_detail", "event_register", "event_dashboard", "event_checkin", "event_survey"):
        assert globex_client.get(reverse(f"events:{name}", args=[secret.pk])).status_code == 404, name
    assert "Acme renewal" not in _text(globex_client.get(reverse("events:event_list")))


def test_anonymous_visitor_is_asked_to_log_in_for_a_members_event(client: Client, meetup: Event) -> None:
    response = client.get(reverse("events:event_detail", args=[meetup.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- registering -----------------------------------------------------------------------------


def test_registering_as_a_user_confirms_and_the_confirmation_states_the_frame(
    acme_client: Client, world: World, meetup: Event
) -> None:
    form = _text(acme_client.get(reverse("events:event_register", args=[meetup.pk])))
    assert "is a community event" in form and 'name="intent"' in form
    response = acme_client.post(reverse("events:event_register", args=[meetup.pk]), {"intent": "user"})
    assert response.status_code == 302 and response["Location"] == reverse("events:event_registered", args=[meetup.pk])
    confirmation = _text(acme_client.get(response["Location"]))
    assert "You are registered" in confirmation and "Community session" in confirmation
    page = _text(acme_client.get(reverse("events:event_detail", args=[meetup.pk])))
    assert "Your seat is confirmed" in page and "9 left" in page


def test_a_buyer_at_a_community_event_sees_the_notice_and_can_register_anyway(
    acme_client: Client, world: World, meetup: Event, pitch: Event
) -> None:
    url = reverse("events:event_register", args=[meetup.pk])
    notice = _text(acme_client.post(url, {"intent": "buyer"}))
    assert "is a community session" in notice and "nothing is sold" in notice
    assert pitch.title in notice  # the commercial route
    assert "Register anyway" in notice
    assert not Registration.objects.filter(event=meetup).exists()
    response = acme_client.post(url, {"intent": "buyer", "acknowledged": "on"})
    assert response.status_code == 302
    reg = Registration.objects.get(event=meetup, member=world.acme_member)
    assert reg.intent == Intent.BUYER and reg.acknowledged_frame_mismatch


def test_a_buyer_with_no_commercial_route_is_offered_a_contact(
    acme_client: Client, world: World, meetup: Event
) -> None:
    notice = _text(acme_client.post(reverse("events:event_register", args=[meetup.pk]), {"intent": "buyer"}))
    assert "Register anyway" in notice and "commercial session" in notice


def test_a_user_at_a_commercial_event_is_told_it_is_a_sales_session(acme_client: Client, pitch: Event) -> None:
    notice = _text(acme_client.post(reverse("events:event_register", args=[pitch.pk]), {"intent": "user"}))
    assert "is a sales session" in notice
    assert not Registration.objects.filter(event=pitch).exists()


def test_registering_without_an_intent_is_a_field_error(acme_client: Client, meetup: Event) -> None:
    response = acme_client.post(reverse("events:event_register", args=[meetup.pk]), {})
    assert response.status_code == 200 and "This field is required" in _text(response)
    assert not Registration.objects.filter(event=meetup).exists()


def test_a_full_event_puts_you_on_the_waitlist_with_your_place(
    acme_client: Client, world: World, globex_client: Client
) -> None:
    tiny = make_event(world, title="Tiny meetup", capacity=1)
    registration_create(event=tiny, member=world.globex_member, intent=Intent.USER)
    acme_client.post(reverse("events:event_register", args=[tiny.pk]), {"intent": "user"})
    confirmation = _text(acme_client.get(reverse("events:event_registered", args=[tiny.pk])))
    assert "waitlist" in confirmation and "number <strong>1</strong>" in confirmation


def test_cancelling_a_registration(acme_client: Client, world: World, meetup: Event) -> None:
    registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    response = acme_client.post(reverse("events:registration_cancel", args=[meetup.pk]))
    assert response.status_code == 302
    assert Registration.objects.get(event=meetup, member=world.acme_member).state == RegistrationState.CANCELLED


def test_registering_twice_goes_to_the_confirmation(acme_client: Client, world: World, meetup: Event) -> None:
    registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    response = acme_client.post(reverse("events:event_register", args=[meetup.pk]), {"intent": "user"})
    assert response.status_code == 302
    assert Registration.objects.filter(event=meetup, member=world.acme_member).count() == 1


# --- creating and editing ----------------------------------------------------------------------


def test_staff_create_a_community_event_with_hosts_by_handle(admin_client: Client, world: World) -> None:
    form = _text(admin_client.get(reverse("events:event_create")))
    assert "Commercial brief" in form
    response = admin_client.post(
        reverse("events:event_create"), _form(speakers=f"@{world.acme_member.handle}, gus@globex.example")
    )
    event = Event.objects.get(title="Scheduling loads, together")
    assert response.status_code == 302 and response["Location"] == reverse("events:event_detail", args=[event.pk])
    assert event.time_zone == "Europe/Paris" and event.starts_at.astimezone(event.starts_at.tzinfo).hour in (16, 17)
    page = _text(admin_client.get(response["Location"]))
    assert "Carla Acme" in page and "Gus Globex" in page and "Speaker" in page


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"ends_at": (timezone.now() + timedelta(days=9)).strftime("%Y-%m-%dT10:00")}, "must end after it starts"),
        ({"capacity": "0"}, "At least 1 seat"),
        ({"frame": "commercial"}, "A commercial event states who it targets"),
        ({"time_zone": "Mars/Olympus"}, "not a known time zone"),
        ({"speakers": "nobody@nowhere.example"}, "Nobody you can see"),
        ({"title": ""}, "This field is required"),
    ],
)
def test_invalid_events_show_field_errors_and_store_nothing(
    admin_client: Client, overrides: dict[str, str], field_error: str
) -> None:
    response = admin_client.post(reverse("events:event_create"), _form(**overrides))
    assert response.status_code == 200
    page = _text(response)
    assert field_error in page and "field-invalid" in page
    assert not Event.objects.exists()


def test_commercial_event_without_brief_marks_all_four_fields(admin_client: Client) -> None:
    page = _text(admin_client.post(reverse("events:event_create"), _form(frame="commercial")))
    for label in ("who it targets", "why they want to hear it", "what is offered", "how they pay"):
        assert f"A commercial event states {label}" in page
    assert not Event.objects.exists()


def test_commercial_event_with_brief_shows_it(admin_client: Client) -> None:
    response = admin_client.post(reverse("events:event_create"), _form(frame="commercial", **BRIEF))
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.commercial_owner is not None and event.brief_offer == BRIEF["brief_offer"]
    page = _text(admin_client.get(response["Location"]))
    assert BRIEF["brief_audience"] in page and BRIEF["brief_payment"] in page


def test_customers_cannot_create_events(acme_client: Client) -> None:
    assert acme_client.get(reverse("events:event_create")).status_code == 403
    assert acme_client.post(reverse("events:event_create"), _form()).status_code == 403
    assert not Event.objects.exists()


def test_a_held_description_shows_the_notice_with_reasons(admin_client: Client) -> None:
    reasons = [{"phrase": "book a demo", "weight": 1.2, "kind": "word", "signal": "cta", "describe": "a call to buy"}]
    charter.set_policy(lambda text: CharterVerdict(state=CheckState.HELD, score=0.97, reasons=reasons))
    response = admin_client.post(reverse("events:event_create"), _form(description="Book a demo today!"))
    event = Event.objects.get()
    assert event.is_held
    page = _text(admin_client.get(response["Location"]))
    assert "Held for the community charter" in page and "book a demo" in page and "a call to buy" in page


def test_organisers_edit_and_others_cannot(
    admin_client: Client, acme_client: Client, world: World, meetup: Event
) -> None:
    form = _text(admin_client.get(reverse("events:event_edit", args=[meetup.pk])))
    assert meetup.title in form and "Europe/Paris" in form
    data = _form(title="Renamed meetup", capacity="12", hosts=world.admin_member.email or "")
    response = admin_client.post(reverse("events:event_edit", args=[meetup.pk]), data)
    assert response.status_code == 302
    meetup.refresh_from_db()
    assert meetup.title == "Renamed meetup" and meetup.capacity == 12
    assert acme_client.get(reverse("events:event_edit", args=[meetup.pk])).status_code == 403


# --- organisers: dashboard and check-in --------------------------------------------------------


def test_the_dashboard_shows_intents_attendance_fit_and_flags(
    admin_client: Client, world: World, meetup: Event, pitch: Event
) -> None:
    registration_create(event=meetup, member=world.acme_member, intent=Intent.BUYER, acknowledged=True)
    page = _text(admin_client.get(reverse("events:event_dashboard", args=[meetup.pk])))
    assert "Registrations by intent" in page and "Carla Acme" in page
    assert "A community event whose audience is mostly buyers" in page
    assert "Mismatch acknowledged" in page


def test_non_organisers_cannot_open_dashboard_or_checkin(acme_client: Client, meetup: Event) -> None:
    assert acme_client.get(reverse("events:event_dashboard", args=[meetup.pk])).status_code == 403
    assert acme_client.get(reverse("events:event_checkin", args=[meetup.pk])).status_code == 403


def test_checkin_search_one_click_and_no_show(admin_client: Client, world: World) -> None:
    started = make_event(world, title="On now", starts_at=soon(0, -1), ends_at=soon(0, 2))
    carla = registration_create(event=started, member=world.acme_member, intent=Intent.USER)
    gus = registration_create(event=started, member=world.globex_member, intent=Intent.USER)
    url = reverse("events:event_checkin", args=[started.pk])
    found = _text(admin_client.get(url, {"q": "carla"}))
    assert "Carla Acme" in found and "Gus Globex" not in found
    response = admin_client.post(url, {"registration": carla.pk, "action": "checkin", "q": "carla"})
    assert response.status_code == 302
    carla.refresh_from_db()
    assert carla.attended_at is not None
    admin_client.post(url, {"registration": gus.pk, "action": "no_show"})
    gus.refresh_from_db()
    assert gus.no_show
    page = _text(admin_client.get(url))
    assert "Checked in" in page and "No-show" in page


def test_checkin_refuses_a_registration_of_another_event(admin_client: Client, world: World, meetup: Event) -> None:
    other = make_event(world, title="Another")
    reg = registration_create(event=other, member=world.acme_member, intent=Intent.USER)
    response = admin_client.post(
        reverse("events:event_checkin", args=[meetup.pk]), {"registration": reg.pk, "action": "checkin"}
    )
    assert response.status_code == 404


# --- attendees: survey; staff: report ------------------------------------------------------------


def _finished_with_attendee(world: World, intent: str = Intent.USER) -> tuple[Event, Registration]:
    event = make_event(world, title="Done and dusted", starts_at=soon(-1), ends_at=soon(-1, 2))
    now = event.starts_at - timedelta(days=1)
    reg = registration_create(event=event, member=world.acme_member, intent=intent, acknowledged=True, now=now)
    checkin(registration=reg, now=event.starts_at)
    return event, reg


def test_attendees_answer_the_survey_once(acme_client: Client, world: World) -> None:
    event, reg = _finished_with_attendee(world)
    url = reverse("events:event_survey", args=[event.pk])
    assert "Was the session what its framing promised?" in _text(acme_client.get(url))
    assert "Answer the two-question survey" in _text(acme_client.get(reverse("events:event_detail", args=[event.pk])))
    bad = acme_client.post(url, {"fit": "9"})
    assert bad.status_code == 200 and not Survey.objects.exists()
    assert acme_client.post(url, {"fit": "4", "comment": "Just what it said."}).status_code == 302
    assert Survey.objects.get(registration=reg).fit == 4
    assert "You answered: 4/5" in _text(acme_client.get(url))


def test_the_survey_is_only_for_attendees(globex_client: Client, meetup: Event) -> None:
    page = _text(globex_client.get(reverse("events:event_survey", args=[meetup.pk])))
    assert "Only people who were checked in" in page


def test_the_fit_report_ranks_and_flags_for_staff_only(admin_client: Client, acme_client: Client, world: World) -> None:
    event, reg = _finished_with_attendee(world, intent=Intent.BUYER)
    Survey.objects.create(registration=reg, fit=1, comment="It was a sales pitch")
    page = _text(admin_client.get(reverse("events:fit_report")))
    assert event.title in page and "A community event whose audience is mostly buyers" in page
    assert "Ada Admin" in page  # the host, ranked
    assert acme_client.get(reverse("events:fit_report")).status_code == 403


# --- links from other pages ----------------------------------------------------------------------


def test_space_page_lists_its_events_and_a_feed(acme_client: Client, world: World, lounge: Space) -> None:
    event = make_event(world, title="Lounge evening", space=lounge)
    page = _text(acme_client.get(reverse("web:space_detail", args=[lounge.slug])))
    assert event.title in page and "Subscribe in your calendar" in page
    assert f"/events/calendar/space/{lounge.slug}.ics?token=" in page


def test_notification_settings_offer_the_member_feed(acme_client: Client, world: World) -> None:
    page = _text(acme_client.get(reverse("web:notification_settings")))
    assert "/events/calendar/member/" in page


def test_members_without_a_profile_are_not_crashing_the_list(client: Client, world: World) -> None:
    assert client.get(reverse("events:event_list")).status_code == 200


def test_every_event_page_is_documented() -> None:
    from convenor.events import urls
    from convenor.web import views_events

    doc = (Path(__file__).resolve().parents[3] / "docs" / "events.md").read_text()
    routes = [
        "/events/"
        + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "<id>" if m[1].endswith("id") else f"<{m[1]}>", str(p.pattern))
        for p in urls.urlpatterns
        if getattr(p, "callback", None) is not None and p.callback.__module__ == views_events.__name__
    ]
    assert len(routes) >= 10
    missing = [r for r in routes if f"`{r}" not in doc]
    assert missing == [], f"document these in docs/events.md: {missing}"


# --- recurring series, invitations, releasing a held event ---------------------------------


def test_creating_a_weekly_series_from_the_event_form_shows_its_occurrences(admin_client: Client) -> None:
    assert 'name="repeat"' in _text(admin_client.get(reverse("events:event_create")))
    response = admin_client.post(reverse("events:event_create"), _form(repeat="weekly", interval="1", count="4"))
    events = list(Event.objects.order_by("starts_at"))
    assert len(events) == 4 and events[0].series is not None
    series = events[0].series
    assert {e.series_id for e in events} == {series.pk}
    assert response.status_code == 302 and response["Location"] == reverse("events:series_detail", args=[series.pk])
    page = _text(admin_client.get(response["Location"], follow=True))
    assert "created with 4 occurrences" in page and "Weekly, until" in page
    for e in events:
        assert reverse("events:event_detail", args=[e.pk]) in page
    detail = _text(admin_client.get(reverse("events:event_detail", args=[events[1].pk])))
    assert reverse("events:series_detail", args=[series.pk]) in detail


def test_a_custom_series_from_the_form_and_its_errors(admin_client: Client) -> None:
    day = (timezone.now() + timedelta(days=10)).date()
    bad = admin_client.post(reverse("events:event_create"), _form(repeat="custom", dates="next tuesday"))
    assert bad.status_code == 200 and "is not a date like" in _text(bad) and not Event.objects.exists()
    missing = admin_client.post(reverse("events:event_create"), _form(repeat="weekly"))
    assert "Give the number of occurrences or the date the series ends" in _text(missing)
    assert not Event.objects.exists()
    dates = f"{day + timedelta(days=5)}, {day + timedelta(days=12)}"
    admin_client.post(reverse("events:event_create"), _form(repeat="custom", dates=dates))
    starts = [e.starts_at.astimezone(e.starts_at.tzinfo) for e in Event.objects.order_by("starts_at")]
    assert len(starts) == 3
    assert len({(s.astimezone(timezone.get_current_timezone()).hour) for s in starts}) == 1


def test_make_this_recurring_then_extend(admin_client: Client, meetup: Event) -> None:
    page = _text(admin_client.get(reverse("events:event_detail", args=[meetup.pk])))
    assert "Make this recurring" in page
    form = _text(admin_client.get(reverse("events:event_recurring", args=[meetup.pk])))
    assert "becomes the first occurrence" in form
    response = admin_client.post(
        reverse("events:event_recurring", args=[meetup.pk]), {"repeat": "monthly", "interval": "1", "count": "3"}
    )
    meetup.refresh_from_db()
    assert meetup.series is not None and response["Location"] == reverse(
        "events:series_detail", args=[meetup.series_id]
    )
    assert meetup.series.occurrences.count() == 3
    until = meetup.series.horizon + timedelta(days=62)
    admin_client.post(reverse("events:series_extend", args=[meetup.series_id]), {"until": until.isoformat()})
    assert meetup.series.occurrences.count() == 5
    assert "Make this recurring" not in _text(admin_client.get(reverse("events:event_detail", args=[meetup.pk])))


def test_a_series_page_is_not_found_for_those_who_see_none_of_it(
    admin_client: Client, acme_client: Client, world: World
) -> None:
    event = make_event(world, visibility="account", organization=world.globex)
    admin_client.post(reverse("events:event_recurring", args=[event.pk]), {"repeat": "weekly", "count": "2"})
    event.refresh_from_db()
    assert acme_client.get(reverse("events:series_detail", args=[event.series_id])).status_code == 404
    assert acme_client.get(reverse("events:event_recurring", args=[event.pk])).status_code == 404


def test_organisers_invite_several_people_by_email_and_handle(
    admin_client: Client, acme_client: Client, world: World, meetup: Event, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    from convenor.core.models import Notification

    page = _text(admin_client.get(reverse("events:event_dashboard", args=[meetup.pk])))
    assert "Send invitations" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("events:event_invite", args=[meetup.pk]),
            {"people": f"@{world.acme_member.handle}\n{world.globex_member.email}", "from": "dashboard"},
            follow=True,
        )
    text = _text(response)
    assert "Invited Carla Acme, Gus Globex" in text
    assert sorted(m.to[0] for m in mail.outbox) == ["carla@acme.example", "gus@globex.example"]
    assert all(m.attachments[0][2] == "text/calendar; method=REQUEST" for m in mail.outbox)
    note = Notification.objects.get(recipient=world.acme_user, kind="event_invited")
    assert note.url == reverse("events:event_register", args=[meetup.pk])
    register = _text(acme_client.get(note.url))
    assert "community" in register.lower() and 'name="intent"' in register
    unknown = admin_client.post(
        reverse("events:event_invite", args=[meetup.pk]), {"people": "nobody@nowhere.example"}, follow=True
    )
    assert "Nobody you can see has the email address or @handle nobody@nowhere.example" in _text(unknown)
    # Registrants cannot invite on the organisers' behalf.
    assert (
        acme_client.post(reverse("events:event_invite", args=[meetup.pk]), {"people": "x@y.example"}).status_code == 403
    )


def test_admins_release_a_held_event_with_its_reasons_shown(
    admin_client: Client, world: World, acme_client: Client
) -> None:
    from convenor.events.charter import CharterVerdict as Verdict

    previous = charter.set_policy(
        lambda text: Verdict(
            state=CheckState.HELD, score=0.93, reasons=[{"phrase": "20% off", "describe": "a price offer"}]
        )
    )
    try:
        event = make_event(world, description="Come for 20% off the yearly plan.", creator=world.acme_member)
    finally:
        charter.set_policy(previous)
    page = _text(admin_client.get(reverse("events:event_detail", args=[event.pk])))
    assert "“20% off” — a price offer" in page and "Release: it does not sell" in page
    dashboard = _text(admin_client.get(reverse("events:event_dashboard", args=[event.pk])))
    assert "Release: it does not sell" in dashboard
    # The organiser who is not an admin sees the reasons but no release button, and may not release.
    mine = _text(acme_client.get(reverse("events:event_detail", args=[event.pk])))
    assert "“20% off”" in mine and "Release: it does not sell" not in mine
    assert acme_client.post(reverse("events:event_release", args=[event.pk])).status_code == 403
    response = admin_client.post(reverse("events:event_release", args=[event.pk]), follow=True)
    assert "is released" in _text(response)
    event.refresh_from_db()
    assert event.check_state == CheckState.OK
