"""The map's watermark never passes over an activity still being written.

On PostgreSQL ids come from a sequence and transactions commit in any order, so an activity
with a lower id can be committed after one with a higher id was seen. The watermark a build
or an update starts from must wait for it, or the next update (which reads only ids above the
watermark) would never count it.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from convenor.activity.models import Activity, Verb
from convenor.activity.services import record
from convenor.core.testing import build_world
from convenor.graph import services


@pytest.mark.django_db(transaction=True)
def test_the_watermark_waits_for_an_activity_still_being_written() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: an activity in flight always gets the next id")
    world = build_world()
    a, b = world.acme_member, world.globex_member
    written, release = threading.Event(), threading.Event()
    slow: dict[str, int] = {}
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                record(actor=a, verb=Verb.MESSAGED, target_member=b, origin_id="slow")
                slow["id"] = Activity.objects.get(origin_id="slow").pk
                written.set()
                release.wait(20)
        except BaseException as exc:  # reported below
            errors.append(exc)
            written.set()
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert written.wait(20) and not errors
    record(actor=b, verb=Verb.MESSAGED, target_member=a, origin_id="fast")
    fast = Activity.objects.get(origin_id="fast").pk
    assert fast > slow["id"], "the later activity took the higher id, and is committed first"

    mark: dict[str, int] = {}

    def watermark() -> None:
        try:
            mark["id"] = services._last_activity_id()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    reader = threading.Thread(target=watermark)
    reader.start()
    reader.join(1.0)
    still_waiting = reader.is_alive()
    release.set()
    writer.join(20)
    reader.join(20)
    assert not errors
    assert still_waiting, "the watermark waited for the activity in flight"
    assert mark["id"] >= fast
    assert Activity.objects.filter(pk=slow["id"]).exists(), "and that activity was committed before it"


@pytest.mark.django_db
def test_the_watermark_is_the_newest_activity() -> None:
    world = build_world()
    assert services._last_activity_id() == 0 or Activity.objects.exists()
    record(actor=world.acme_member, verb=Verb.MESSAGED, target_member=world.globex_member, origin_id="one")
    assert services._last_activity_id() == Activity.objects.order_by("-pk").values_list("pk", flat=True)[0]
