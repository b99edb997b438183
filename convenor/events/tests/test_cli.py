"""`convenor events list` prints each event's frame, seats, registrations by intent and .ics URL."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from convenor import cli
from convenor.core.testing import World
from convenor.events.models import Event, Intent
from convenor.events.services import registration_create

from .conftest import make_event, soon


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(args)
    out, _ = capsys.readouterr()
    return code, out


def test_events_list(world: World, meetup: Event, pitch: Event, capsys: pytest.CaptureFixture[str]) -> None:
    registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    registration_create(event=meetup, member=world.globex_member, intent=Intent.BUYER, acknowledged=True)
    make_event(world, title="Last month", starts_at=soon(-30), ends_at=soon(-30, 2))
    code, out = run(["events", "list"], capsys)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith(meetup.title))
    assert "\tcommunity\t" in line and "2/10 seats" in line and "users 1, buyers 1, other 0" in line
    assert line.endswith(f"{settings.CONVENOR_BASE_URL}/events/{meetup.pk}.ics")
    assert "Last month" not in out

    code, out = run(["events", "list", "--json"], capsys)
    rows = {r["title"]: r for r in json.loads(out)}
    assert rows[pitch.title]["frame"] == "commercial" and rows[pitch.title]["capacity"] is None
    assert rows[meetup.title]["registrations_by_intent"] == {"user": 1, "buyer": 1, "other": 0}

    code, out = run(["events", "list", "--past"], capsys)
    assert out.startswith("Last month\tcommunity")


def test_events_send_surveys_asks_attendees_once(
    world: World, capsys: pytest.CaptureFixture[str], django_capture_on_commit_callbacks: object
) -> None:
    from datetime import timedelta
    from typing import Any

    from django.core import mail
    from django.utils import timezone

    from convenor.events.services import checkin

    capture: Any = django_capture_on_commit_callbacks
    start = timezone.now() - timedelta(hours=3)
    event = make_event(world, title="Last night's clinic", starts_at=start, ends_at=start + timedelta(hours=2))
    reg = registration_create(event=event, member=world.acme_member, intent=Intent.USER, now=start - timedelta(days=1))
    checkin(registration=reg, now=start)
    mail.outbox.clear()
    with capture(execute=True):
        code, out = run(["events", "send-surveys"], capsys)
    assert code == 0
    assert "Last night's clinic\t1 attendee(s) asked" in out
    assert "Asked 1 attendee(s) of 1 event(s)" in out
    assert len(mail.outbox) == 1 and f"/events/{event.pk}/survey/" in mail.outbox[0].body
    with capture(execute=True):
        code, out = run(["events", "send-surveys"], capsys)
    assert code == 0 and "Asked 0 attendee(s) of 0 event(s)" in out and len(mail.outbox) == 1
