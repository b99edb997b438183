"""Recurring series (count, until, "make this recurring", extending), invitations by email
with the .ics attached, confirmation emails, the survey sending and releasing held events."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import Notification, NotificationPrefs
from convenor.core.testing import World
from convenor.events import calendar as ics
from convenor.events import charter
from convenor.events.charter import CharterVerdict
from convenor.events.models import CheckState, Event, Frame, Intent, Registration
from convenor.events.services import (
    checkin,
    event_cancel,
    event_invite,
    event_release,
    registration_create,
    series_create,
    series_extend,
    series_from_event,
    survey_submit,
    surveys_send,
)
from convenor.people.models import Role
from convenor.people.services import member_create

from .conftest import BRIEF, make_event, soon

PARIS = ZoneInfo("Europe/Paris")


def _first(days: int = 7) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(PARIS).date()
    return datetime(day.year, day.month, day.day, 18, 0, tzinfo=PARIS)


def _series(world: World, **overrides: Any) -> Any:
    first = _first()
    fields: dict[str, Any] = {
        "recurrence": "weekly",
        "title": "Thursday clinic",
        "starts_at": first,
        "ends_at": first + timedelta(hours=1, minutes=30),
        "time_zone": "Europe/Paris",
        "place": "Online room",
        "frame": Frame.COMMUNITY,
        "capacity": 12,
        "creator": world.admin_member,
        "actor": world.admin,
    }
    fields.update(overrides)
    return series_create(**fields)


def _attachment(message: Any) -> Calendar:
    name, content, mimetype = message.attachments[0]
    assert name == "event.ics" and mimetype.startswith("text/calendar")
    return Calendar.from_ical(content)


def _vevent(cal: Calendar) -> Any:
    return next(c for c in cal.walk("VEVENT"))


# --- series ---------------------------------------------------------------------------------


def test_a_weekly_series_with_a_count_makes_that_many_equal_occurrences(world: World) -> None:
    series = _series(world, count=4)
    events = list(series.occurrences.order_by("starts_at"))
    assert len(events) == 4
    assert [e.starts_at.astimezone(PARIS).date() for e in events] == [
        _first().date() + timedelta(weeks=n) for n in range(4)
    ]
    assert {e.ends_at - e.starts_at for e in events} == {timedelta(hours=1, minutes=30)}
    assert {(e.capacity, e.frame, e.place) for e in events} == {(12, "community", "Online room")}
    assert series.horizon == events[-1].starts_at.astimezone(PARIS).date()


def test_a_monthly_series_every_two_months_until_a_date(world: World) -> None:
    first = _first()
    until = first.date() + timedelta(days=200)
    series = _series(world, recurrence="monthly", interval=2, horizon=until)
    days = [e.starts_at.astimezone(PARIS).date() for e in series.occurrences.order_by("starts_at")]
    assert 3 <= len(days) <= 4 and days[0] == first.date() and all(d <= until for d in days)
    assert all((b.year - a.year) * 12 + b.month - a.month == 2 for a, b in itertools.pairwise(days))


def test_a_custom_series_uses_its_dates(world: World) -> None:
    first = _first()
    others = [first + timedelta(days=3), first + timedelta(days=17)]
    series = _series(world, recurrence="custom", dates=others)
    assert [e.starts_at for e in series.occurrences.order_by("starts_at")] == [first, *others]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({}, "count"),  # neither a count nor an end
        ({"count": 1}, "count"),
        ({"count": 500}, "count"),
        ({"interval": 0, "count": 3}, "interval"),
        ({"recurrence": "yearly", "count": 3}, "recurrence"),
        ({"recurrence": "custom"}, "dates"),
        ({"horizon": date(2000, 1, 1)}, "horizon"),
    ],
)
def test_bad_series_are_refused_and_nothing_is_stored(world: World, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        _series(world, **overrides)
    assert caught.value.code == ErrorCode.VALIDATION and field in caught.value.fields
    assert not Event.objects.exists()


def test_a_bad_occurrence_stores_no_part_of_the_series(world: World) -> None:
    with pytest.raises(ApplicationError) as caught:
        _series(world, count=3, frame=Frame.COMMERCIAL)  # without its brief
    assert "brief_audience" in caught.value.fields
    assert not Event.objects.exists()


def test_making_an_event_recurring_keeps_it_as_the_first_occurrence(world: World) -> None:
    event = make_event(
        world,
        title="Pipelines Pro for data teams",
        frame=Frame.COMMERCIAL,
        commercial_owner=world.admin_member,
        speakers=[world.acme_member],
        capacity=5,
        registration_closes_at=soon(6),
        **BRIEF,
    )
    series = series_from_event(event=event, recurrence="weekly", count=3, actor=world.admin)
    events = list(series.occurrences.order_by("starts_at"))
    assert events[0] == event and len(events) == 3
    for later in events[1:]:
        assert later.brief == event.brief and later.capacity == 5 and later.frame == Frame.COMMERCIAL
        assert later.ends_at - later.starts_at == event.ends_at - event.starts_at
        assert event.registration_closes_at is not None and later.registration_closes_at is not None
        assert later.starts_at - later.registration_closes_at == event.starts_at - event.registration_closes_at
        assert list(later.roles.filter(role="speaker").values_list("member", flat=True)) == [world.acme_member.pk]
    with pytest.raises(ApplicationError) as caught:
        series_from_event(event=event, recurrence="weekly", count=3)
    assert caught.value.code == ErrorCode.CONFLICT


def test_extending_the_horizon_adds_occurrences_like_the_latest(world: World) -> None:
    series = _series(world, count=2)
    last = series.occurrences.order_by("starts_at").last()
    assert last is not None
    made = series_extend(series=series, horizon=series.horizon + timedelta(days=14), actor=world.admin)
    assert [e.starts_at for e in made] == [last.starts_at + timedelta(weeks=1), last.starts_at + timedelta(weeks=2)]
    series.refresh_from_db()
    assert series.occurrences.count() == 4 and series.horizon == last.starts_at.date() + timedelta(days=14)
    with pytest.raises(ApplicationError) as caught:
        series_extend(series=series, horizon=series.horizon)
    assert caught.value.fields == {"horizon": [f"Choose a date after {series.horizon:%d %b %Y}"]}


def test_a_custom_series_cannot_be_extended(world: World) -> None:
    series = _series(world, recurrence="custom", dates=[_first() + timedelta(days=3)])
    with pytest.raises(ApplicationError) as caught:
        series_extend(series=series, horizon=series.horizon + timedelta(days=30))
    assert "recurrence" in caught.value.fields


# --- invitations ----------------------------------------------------------------------------


def test_an_invitation_is_a_notification_and_an_email_with_the_ics(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    event = make_event(world, capacity=10)
    guest = member_create(name="Gus Guest", email="gus@acme.example", role=Role.CUSTOMER, organization=world.acme)
    with django_capture_on_commit_callbacks(execute=True):
        done = event_invite(event=event, members=[world.acme_member, guest], by=world.admin_member)
    assert done.invited == [world.acme_member, guest] and done.again == []
    assert len(mail.outbox) == 2  # one each: the .ics email stands for the notification's own email
    message = next(m for m in mail.outbox if m.to == ["carla@acme.example"])
    assert "Invitation" in message.subject and "community event" in message.body
    assert f"/events/{event.pk}/register/" in message.body
    _name, content, mimetype = message.attachments[0]
    assert mimetype == "text/calendar; method=REQUEST"
    cal = Calendar.from_ical(content)
    assert str(cal["METHOD"]) == "REQUEST"
    vevent = _vevent(cal)
    assert str(vevent["UID"]) == ics.event_uid(event)
    assert vevent.decoded("DTSTART") == event.starts_at
    assert str(vevent["SUMMARY"]) == event.title
    note = Notification.objects.get(recipient=world.acme_user, kind="event_invited")
    assert note.url == f"/events/{event.pk}/register/" and note.emailed_at is not None
    # Inviting again sends nothing.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = event_invite(event=event, members=[guest], by=world.admin_member)
    assert again.invited == [] and again.again == [guest] and mail.outbox == []


def test_invitations_respect_the_email_preference(world: World, django_capture_on_commit_callbacks: Any) -> None:
    event = make_event(world)
    NotificationPrefs.objects.update_or_create(user=world.acme_user, defaults={"email_each": False})
    with django_capture_on_commit_callbacks(execute=True):
        event_invite(event=event, members=[world.acme_member], by=world.admin_member)
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=world.acme_user, kind="event_invited").exists()


def test_invitations_are_refused_for_outsiders_and_for_cancelled_or_held_events(world: World) -> None:
    account = make_event(world, visibility="account", organization=world.acme)
    with pytest.raises(ApplicationError) as caught:
        event_invite(event=account, members=[world.globex_member], by=world.admin_member)
    assert caught.value.code == ErrorCode.VALIDATION and world.globex_member.name in caught.value.message
    assert caught.value.fields["people"]
    with pytest.raises(ApplicationError):
        event_invite(event=account, members=[], by=world.admin_member)
    event_cancel(event=account)
    with pytest.raises(ApplicationError) as cancelled:
        event_invite(event=account, members=[world.acme_member], by=world.admin_member)
    assert cancelled.value.code == ErrorCode.CONFLICT


def test_the_confirmation_email_carries_the_ics(world: World, django_capture_on_commit_callbacks: Any) -> None:
    event = make_event(world, capacity=10)
    with django_capture_on_commit_callbacks(execute=True):
        registration_create(event=event, member=world.acme_member, intent=Intent.USER)
    message = mail.outbox[-1]
    assert message.subject.endswith(f"Registered: {event.title}")
    vevent = _vevent(_attachment(message))
    assert str(vevent["UID"]) == ics.event_uid(event) and str(vevent["SUMMARY"]) == event.title
    assert vevent.decoded("DTSTART") == event.starts_at


# --- surveys ----------------------------------------------------------------------------------


def test_send_surveys_asks_each_attendee_once_after_the_event(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    start = timezone.now() + timedelta(hours=1)
    event = make_event(world, starts_at=start, ends_at=start + timedelta(hours=2))
    reg = registration_create(event=event, member=world.acme_member, intent=Intent.USER)
    no_show = member_create(name="Nora", email="nora@acme.example", role=Role.CUSTOMER, organization=world.acme)
    registration_create(event=event, member=no_show, intent=Intent.USER)
    checkin(registration=reg, now=start)
    mail.outbox.clear()
    assert surveys_send(now=start + timedelta(hours=1)) == {}  # not over yet
    later = start + timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys_send(now=later) == {event.pk: 1}
    assert [m.to for m in mail.outbox] == [["carla@acme.example"]]
    assert f"/events/{event.pk}/survey/" in mail.outbox[0].body
    assert "framing promised" in mail.outbox[0].body
    note = Notification.objects.get(recipient=world.acme_user, kind="event_survey")
    assert note.url == f"/events/{event.pk}/survey/"
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys_send(now=later + timedelta(hours=1)) == {}
    assert len(mail.outbox) == 1
    survey_submit(registration=Registration.objects.get(pk=reg.pk), member=world.acme_member, fit=5, now=later)


def test_send_surveys_skips_cancelled_and_old_events(world: World) -> None:
    start = timezone.now() - timedelta(days=60)
    old = make_event(world, starts_at=start, ends_at=start + timedelta(hours=1))
    Event.objects.filter(pk=old.pk).update(created_at=start)
    assert surveys_send() == {}
    recent = timezone.now() - timedelta(days=2)
    event = make_event(world, starts_at=recent, ends_at=recent + timedelta(hours=1))
    event_cancel(event=event)
    assert surveys_send() == {}


# --- releasing a held event -------------------------------------------------------------------


def test_releasing_a_held_event_publishes_it(world: World) -> None:
    previous = charter.set_policy(
        lambda text: CharterVerdict(
            state=CheckState.HELD, score=0.9, reasons=[{"phrase": "book a demo", "describe": "a call to buy"}]
        )
    )
    try:
        event = make_event(world, description="Book a demo today: 20% off.")
    finally:
        charter.set_policy(previous)
    assert event.is_held
    with pytest.raises(ApplicationError):
        registration_create(event=event, member=world.acme_member, intent=Intent.USER)
    event_release(event=event, actor=world.admin)
    event.refresh_from_db()
    assert event.check_state == CheckState.OK
    assert registration_create(event=event, member=world.acme_member, intent=Intent.USER).state == "confirmed"
    assert Notification.objects.filter(recipient=world.admin, kind="event_released").exists()
    with pytest.raises(ApplicationError) as caught:
        event_release(event=event)
    assert caught.value.code == ErrorCode.CONFLICT
