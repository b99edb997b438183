"""Over-registration is impossible: 50 people register for 10 seats at the same moment.

Runs on SQLite (the IMMEDIATE transaction mode serialises writers; the busy timeout makes
them queue) and on PostgreSQL (select_for_update on the event row).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from convenor.core.testing import build_world
from convenor.events.models import Intent, Registration, RegistrationState
from convenor.events.services import registration_create
from convenor.people.models import Member, Role
from convenor.people.services import member_create

from .conftest import make_event

THREADS = 50
SEATS = 10


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_registrations_for_ten_seats() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]  # sqlite only
        pytest.skip("threads cannot share an in-memory SQLite database; run with a file test database")
    world = build_world()
    event = make_event(world, capacity=SEATS)
    members = [
        member_create(name=f"Racer {i}", email=f"racer{i}@acme.example", role=Role.CUSTOMER, organization=world.acme)
        for i in range(THREADS)
    ]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def register(member: Member) -> None:
        try:
            barrier.wait()
            registration_create(event=event, member=member, intent=Intent.USER)
        except BaseException as exc:  # reported below, with the thread's own failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    regs = Registration.objects.filter(event=event)
    assert regs.filter(state=RegistrationState.CONFIRMED).count() == SEATS
    waitlisted = regs.filter(state=RegistrationState.WAITLISTED)
    assert waitlisted.count() == THREADS - SEATS
    positions = sorted(p or 0 for p in waitlisted.values_list("waitlist_position", flat=True))
    assert positions == list(range(1, THREADS - SEATS + 1))
