"""Writing to the activity log. Native actions and imports both come through here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from convenor.activity.models import NATIVE_SOURCE, Activity, Verb
from convenor.core.bulk import rows_where_in
from convenor.core.errors import invalid
from convenor.people.models import Member, Organization

_VERBS = frozenset(v.value for v in Verb)


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One activity to record in bulk; ids instead of objects so imports stay cheap."""

    actor_id: int
    verb: str
    origin_id: str
    occurred_at: datetime
    source: str = NATIVE_SOURCE
    target_member_id: int | None = None
    target_org_id: int | None = None
    object_kind: str = ""
    object_id: int | None = None
    place_kind: str = ""
    place_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _check(verb: str, source: str, origin_id: str) -> None:
    if verb not in _VERBS:
        raise invalid(f"Unknown verb {verb!r}", verb=f"must be one of {', '.join(sorted(_VERBS))}")
    if not source or not origin_id:
        raise invalid("An activity needs a source and an origin id", origin_id="required")


def record(
    *,
    actor: Member,
    verb: str,
    source: str = NATIVE_SOURCE,
    origin_id: str | None = None,
    occurred_at: datetime | None = None,
    target_member: Member | None = None,
    target_org: Organization | None = None,
    object_kind: str = "",
    object_id: int | None = None,
    place_kind: str = "",
    place_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Activity:
    """Record one activity and return it.

    Idempotent on ``(source, origin_id)``: recording the same origin again returns the
    row already there and changes nothing. Native callers pass a stable origin id such
    as ``"post:12"`` so that retries do not double-count; without one a random id is used.
    Raises ApplicationError(VALIDATION) for an unknown verb.
    """
    origin = origin_id or f"{verb}:{uuid.uuid4().hex}"
    _check(verb, source, origin)
    existing = Activity.objects.filter(source=source, origin_id=origin).first()
    if existing is not None:
        return existing
    try:
        # A savepoint, so a concurrent insert of the same origin does not spoil the
        # caller's transaction; we then return the row that won.
        with transaction.atomic():
            return Activity.objects.create(
                actor=actor,
                verb=verb,
                source=source,
                origin_id=origin,
                occurred_at=occurred_at or timezone.now(),
                target_member=target_member,
                target_org=target_org,
                object_kind=object_kind,
                object_id=object_id,
                place_kind=place_kind,
                place_id=place_id,
                data=data or {},
            )
    except IntegrityError:
        return Activity.objects.get(source=source, origin_id=origin)


def _chunks(items: Iterable[ActivityRecord], size: int) -> Iterator[list[ActivityRecord]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def record_many(records: Iterable[ActivityRecord], *, batch_size: int = 2000) -> int:
    """Record many activities in bulk; returns how many were new.

    Rows whose ``(source, origin_id)`` is already in the log are skipped, so an import
    that is run again, or resumed after it was interrupted, adds only what is missing.
    """
    now = timezone.now()
    added = 0
    for chunk in _chunks(records, batch_size):
        fresh: dict[tuple[str, str], ActivityRecord] = {}
        for r in chunk:
            _check(r.verb, r.source, r.origin_id)
            fresh.setdefault((r.source, r.origin_id), r)
        # One indexed look-up per chunk tells which origins are already in the log.
        for source in {key[0] for key in fresh}:
            origins = [key[1] for key in fresh if key[0] == source]
            for (seen,) in rows_where_in(
                table=Activity._meta.db_table,
                columns=("origin_id",),
                fixed={"source": source},
                key="origin_id",
                values=origins,
            ):
                fresh.pop((source, seen), None)
        if not fresh:
            continue
        with transaction.atomic():
            _insert(fresh.values(), now)
        added += len(fresh)
    return added


_COLUMNS = (
    "actor_id",
    "verb",
    "source",
    "origin_id",
    "occurred_at",
    "recorded_at",
    "target_member_id",
    "target_org_id",
    "object_kind",
    "object_id",
    "place_kind",
    "place_id",
    "data",
)


def _insert(records: Iterable[ActivityRecord], now: datetime) -> None:
    """One executemany of plain parameter tuples: bulk_create compiles every row through
    the ORM, which was most of an import's time (a million Slack messages, bench/ingest.py).
    ON CONFLICT DO NOTHING (SQLite and PostgreSQL) covers a concurrent import of the same rows."""
    ops = connection.ops
    data_field = Activity._meta.get_field("data")
    table = ops.quote_name(Activity._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _COLUMNS)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    unique = f"{ops.quote_name('source')}, {ops.quote_name('origin_id')}"
    # Quoted names; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({unique}) DO NOTHING"  # noqa: S608
    recorded = ops.adapt_datetimefield_value(now)
    rows = [
        (
            r.actor_id,
            r.verb,
            r.source,
            r.origin_id,
            ops.adapt_datetimefield_value(r.occurred_at),
            recorded,
            r.target_member_id,
            r.target_org_id,
            r.object_kind,
            r.object_id,
            r.place_kind,
            r.place_id,
            data_field.get_db_prep_save(r.data, connection),
        )
        for r in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
