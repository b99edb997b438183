"""Plain SQL for the few reads on every page: through the driver when nobody watches queries.

A logged-in page kept for readers makes one query (its session with the thread or space and
the reader's facts; two on the first page a process serves for that session). Through
Django's cursor each cost twice what SQLite's own work on it did (45 µs against 21 for the
thread page's): the cursor's creation, its wrappers, the
checks of a broken transaction and thread sharing, the error translation. `fetch` runs a
statement on the same connection through the driver's own cursor, keeping what matters of
those layers (the connection is opened as Django opens it, errors come out as Django's, a
broken transaction is refused and thread sharing is checked), and goes through Django's
cursor whenever something watches queries: ``DEBUG`` or a test's query count
(``force_debug_cursor``), or an execute wrapper (an APM agent, ``connection.execute_wrapper``).
So every query is still seen by whatever looks.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

from convenor.core.memo import Memo


def fetch(sql: str, params: dict[str, Any] | list[Any], *, one: bool = False) -> Any:
    """The rows of `sql` (Django's ``%s`` or ``%(name)s`` placeholders) with `params`, as
    ``cursor.fetchall()`` gives them; with `one`, the first row or None."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone() if one else cur.fetchall()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        connection.ensure_connection()
        raw = connection.connection.cursor()
        try:
            raw.execute(_driver_sql(connection.vendor, sql, params), params)
            return raw.fetchone() if one else raw.fetchall()
        finally:
            raw.close()


def _driver_sql(vendor: str, sql: str, params: dict[str, Any] | list[Any]) -> str:
    """`sql` in the driver's own placeholders: SQLite's ``?`` and ``:name`` (as Django's
    SQLiteCursorWrapper converts them), psycopg's are Django's."""
    if vendor != "sqlite":
        return sql
    named = isinstance(params, dict)
    key = (sql, tuple(params) if named else None)
    found = _CONVERTED.get(key)
    if found is None:
        if named:
            found = sql % {name: f":{name}" for name in params}
        else:
            found = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
        _CONVERTED.put(key, found)
    return found


_CONVERTED: Memo[tuple[str, tuple[str, ...] | None], str] = Memo(256)
