"""Event fixtures: a community event, a commercial event, and a way to make more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from convenor.core.models import StaffRole
from convenor.core.testing import PASSWORD, World
from convenor.events import charter
from convenor.events.charter import CharterVerdict
from convenor.events.models import CheckState, Event, Frame
from convenor.events.services import event_create
from convenor.people.models import Member, Role
from convenor.people.services import account_create


def soon(days: int = 7, hours: int = 0) -> datetime:
    return (timezone.now() + timedelta(days=days, hours=hours)).replace(microsecond=0)


BRIEF: dict[str, str] = {
    "brief_audience": "data teams choosing a pipeline tool",
    "brief_reason": "their nightly loads miss the morning reports",
    "brief_offer": "Pipelines Pro with a migration service",
    "brief_payment": "a yearly subscription per workspace",
}


@pytest.fixture(autouse=True)
def _charter_ok() -> Iterator[None]:
    """Tests do not depend on the shipped model unless they ask for it: every description passes."""
    previous = charter.set_policy(lambda text: CharterVerdict(state=CheckState.OK, score=0.01))
    yield
    charter.set_policy(previous)


@pytest.fixture
def seller(world: World) -> Member:
    """Sam, an employee in sales: owns commercial events."""
    user = account_create(
        email="sam@northwind.example", password=PASSWORD, name="Sam Sales", staff_role=StaffRole.SALES
    )
    member = Member.objects.get(user=user)
    assert member.role == Role.EMPLOYEE
    return member


def make_event(world: World, **overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "title": "Get the most out of Pipelines",
        "description": "Users show how they schedule their loads.",
        "starts_at": soon(),
        "ends_at": soon(hours=2),
        "time_zone": "Europe/Paris",
        "place": "Lyon office, 3rd floor",
        "frame": Frame.COMMUNITY,
        "creator": world.admin_member,
        "actor": world.admin,
    }
    fields.update(overrides)
    return event_create(**fields)


@pytest.fixture
def meetup(world: World) -> Event:
    """A members-only community event hosted by the admin, 10 seats."""
    return make_event(world, capacity=10)


@pytest.fixture
def pitch(world: World, seller: Member) -> Event:
    """A commercial event owned by Sam, with its brief."""
    return make_event(
        world,
        title="Pipelines Pro for data teams",
        frame=Frame.COMMERCIAL,
        commercial_owner=seller,
        online_url="https://meet.example/pro",
        place="",
        **BRIEF,
    )
