"""The floor the SQLite benchmarks share: rows already written, copied with plain
``executemany`` in one transaction into a fresh file, only the inserts and the commit timed."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

CHUNK = 50_000


def copy_rows(
    source_path: Path, target_path: Path, tables: Sequence[str], *, indexes: bool
) -> tuple[float, float, int]:
    """Create `tables` in a fresh file from the source's own statements (with their secondary
    indexes when `indexes`), copy every row, and return the seconds and CPU seconds spent
    inserting and committing, and the rows copied. Foreign keys are not checked."""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path, isolation_level=None)
    try:
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA synchronous=NORMAL")
        target.execute("PRAGMA foreign_keys=OFF")
        kinds = "('table', 'index')" if indexes else "('table')"
        marks = ",".join("?" * len(tables))
        schema = source.execute(
            f"SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND type IN {kinds}"
            f" AND tbl_name IN ({marks}) ORDER BY type DESC",  # tables ("table" > "index") first
            list(tables),
        ).fetchall()
        for (sql,) in schema:
            target.execute(sql)
        seconds = cpu = 0.0
        rows = 0
        target.execute("BEGIN")
        for table in tables:
            cursor = source.execute(f'SELECT * FROM "{table}"')  # our own table names
            sql = f'INSERT INTO "{table}" VALUES ({",".join("?" * len(cursor.description))})'
            while chunk := cursor.fetchmany(CHUNK):
                started, cpu_started = time.perf_counter(), time.process_time()
                target.executemany(sql, chunk)
                seconds += time.perf_counter() - started
                cpu += time.process_time() - cpu_started
                rows += len(chunk)
        started, cpu_started = time.perf_counter(), time.process_time()
        target.execute("COMMIT")
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        return seconds, cpu, rows
    finally:
        target.close()
        source.close()
