"""convenor/core/sql.py: plain SQL through the driver when nobody watches queries, through
Django's cursor when something does; the same rows, Django's errors and transaction rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from convenor.core import sql
from convenor.core.models import User
from convenor.core.testing import World

pytestmark = pytest.mark.django_db


def _django(query: str, params: Any) -> list[tuple[object, ...]]:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return [tuple(r) for r in cur.fetchall()]


def test_the_same_rows_as_through_djangos_cursor(world: World) -> None:
    for query, params in (
        ("SELECT id, email FROM core_user WHERE id >= %s ORDER BY id", [world.acme_user.pk]),
        (
            "SELECT id, email FROM core_user WHERE id >= %(low)s AND email LIKE %(like)s ORDER BY id",
            {"low": 1, "like": "%%"},
        ),
        ("SELECT id, '100%%' FROM core_user WHERE email LIKE '%%example%%' AND id = %s", [world.admin.pk]),
    ):
        assert [tuple(r) for r in sql.fetch(query, params)] == _django(query, params)
    row = sql.fetch("SELECT email FROM core_user WHERE id = %s", [world.globex_user.pk], one=True)
    assert tuple(row) == (world.globex_user.email,)
    assert sql.fetch("SELECT email FROM core_user WHERE id = %s", [10**9], one=True) is None


def test_queries_are_still_seen_by_whatever_watches_them(world: World) -> None:
    with CaptureQueriesContext(connection) as queries:
        sql.fetch("SELECT id FROM core_user WHERE id = %s", [world.admin.pk], one=True)
    assert len(queries) == 1 and "core_user" in queries[0]["sql"]
    seen: list[str] = []

    def watch(execute, query, params, many, context):  # type: ignore[no-untyped-def]
        seen.append(query)
        return execute(query, params, many, context)

    with connection.execute_wrapper(watch):
        sql.fetch("SELECT COUNT(*) FROM core_user", [])
    assert seen == ["SELECT COUNT(*) FROM core_user"]


def test_errors_are_djangos_and_a_broken_transaction_is_refused(world: World) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():  # (PostgreSQL: in a savepoint)
        sql.fetch("SELECT no_such_column FROM core_user", [])
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic(savepoint=False):
            User.objects.create(email=world.admin.email)  # unique: the transaction breaks
        with pytest.raises(transaction.TransactionManagementError):
            sql.fetch("SELECT 1", [])
