from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from convenor.activity.models import Activity, Verb
from convenor.activity.services import ActivityRecord, record, record_many
from convenor.core.errors import ApplicationError
from convenor.core.testing import World


def test_record_is_idempotent_on_source_and_origin(world: World) -> None:
    a = record(actor=world.acme_member, verb=Verb.POSTED, origin_id="post:1")
    b = record(actor=world.acme_member, verb=Verb.POSTED, origin_id="post:1")
    assert a.pk == b.pk
    assert Activity.objects.count() == 1
    # the same origin id in another source is another activity
    record(actor=world.acme_member, verb=Verb.POSTED, origin_id="post:1", source="slack")
    assert Activity.objects.count() == 2


def test_record_refuses_unknown_verbs(world: World) -> None:
    with pytest.raises(ApplicationError):
        record(actor=world.acme_member, verb="teleported")
    assert Activity.objects.count() == 0


def test_record_many_skips_what_is_there_and_resumes(world: World) -> None:
    t0 = timezone.now() - dt.timedelta(days=3)
    rows = [
        ActivityRecord(
            actor_id=world.acme_member.pk,
            verb=Verb.MESSAGED,
            origin_id=f"m{i}",
            source="slack",
            occurred_at=t0 + dt.timedelta(minutes=i),
            target_member_id=world.globex_member.pk,
        )
        for i in range(50)
    ]
    # an interrupted import wrote the first 20
    assert record_many(rows[:20], batch_size=7) == 20
    assert record_many(rows, batch_size=7) == 30
    assert record_many(rows + rows[:5]) == 0
    assert Activity.objects.filter(source="slack").count() == 50
