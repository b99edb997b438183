"""Bulk work that the ORM makes slow: rows picked by a long list of keys, and SQLite settings
changed for the length of a bulk write."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection

# Under SQLite's limit of 32,766 parameters per statement (3.32 and newer), with room for the
# fixed ones; PostgreSQL takes any number.
IN_CHUNK = 10_000


def rows_where_in(
    *, table: str, columns: Sequence[str], fixed: dict[str, Any], key: str, values: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE fixed... AND key IN values``, a chunk of values at a time.

    Raw SQL on purpose: the ORM resolves each value of an ``__in`` list through its lookup
    machinery, which cost a sixth of an import's processor time for the ids of a batch.
    Values come back as the database driver gives them (no field converters): use it for
    integer, text and float columns."""
    ops = connection.ops
    head = f"SELECT {', '.join(ops.quote_name(c) for c in columns)} FROM {ops.quote_name(table)} WHERE "  # noqa: S608  # quoted names; values are parameters
    head += "".join(f"{ops.quote_name(name)} = %s AND " for name in fixed)
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), IN_CHUNK):
            part = list(values[start : start + IN_CHUNK])
            sql = f"{head}{ops.quote_name(key)} IN ({', '.join(['%s'] * len(part))})"
            cursor.execute(sql, [*fixed.values(), *part])
            out.extend(cursor.fetchall())
    return out


@contextmanager
def sqlite_pragma(name: str, value: int) -> Iterator[None]:
    """On SQLite, set the connection's PRAGMA `name` to `value` for the block, and put its
    previous value back after, however the block ends; elsewhere nothing. For bulk writes: a
    large page cache (`cache_size`, negative for KiB), or CHECK constraints skipped for rows
    that pass them by construction (`ignore_check_constraints`)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {name} = {before}")
