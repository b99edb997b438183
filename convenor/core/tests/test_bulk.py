from __future__ import annotations

import pytest

from convenor.core import bulk
from convenor.people.models import Identity, Member

pytestmark = pytest.mark.django_db


def test_rows_where_in_reads_every_chunk_and_only_the_fixed_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "IN_CHUNK", 3)
    member = Member.objects.create(name="Keys Person")
    for n in range(8):
        Identity.objects.create(member=member, source="slack", external_id=f"U{n}")
        Identity.objects.create(member=member, source="discourse", external_id=f"U{n}")

    rows = bulk.rows_where_in(
        table=Identity._meta.db_table,
        columns=("external_id", "member_id"),
        fixed={"source": "slack"},
        key="external_id",
        values=[f"U{n}" for n in (0, 2, 3, 5, 7, 9, 11)],
    )

    assert sorted(rows) == [
        ("U0", member.pk),
        ("U2", member.pk),
        ("U3", member.pk),
        ("U5", member.pk),
        ("U7", member.pk),
    ]
    assert bulk.rows_where_in(table=Identity._meta.db_table, columns=("id",), fixed={}, key="id", values=[]) == []


def test_sqlite_pragma_is_set_for_the_block_and_put_back_even_when_it_fails() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        with bulk.sqlite_pragma("cache_size", -1234):
            pass  # nothing to set elsewhere, and nothing fails
        return

    def read() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return int(cursor.fetchone()[0])

    before = read()
    with pytest.raises(RuntimeError), bulk.sqlite_pragma("cache_size", -1234):
        assert read() == -1234
        raise RuntimeError("stopped half-way")
    assert read() == before
