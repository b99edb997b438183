"""How long the demo community takes to build, against the floor of a plain bulk insert.

For each size, in a fresh data folder with a migrated database, a child process builds
the demo community (people, conversations, events: ``build_demo(steps=False)``) and
reports seconds, peak memory and the rows written; then it times the floor.

On SQLite the floor is the very rows the build wrote, read back and inserted with plain
``executemany`` in one transaction into a fresh file with the same tables but none of
their secondary indexes (only the inserts and the commit count); see
docs/decisions/0004-demo-floor.md. The earlier floor, the same number of rows in one
six-column table with no index but the primary key, is still printed beside it
(``bare_floor_seconds``, ``bare_ratio``). On PostgreSQL (--database-url) the floor is that
bare table in the same database. Last it runs the later apps' DEMO_STEPS on top and
reports their seconds apart (``demo_steps``), outside the ratio. Prints JSON; the target
is ``ratio`` (build / floor) at most 3.

    python bench/demo_scale.py                        # 10k, 100k and 1M members on SQLite
    python bench/demo_scale.py --sizes 10000,100000
    python bench/demo_scale.py --sizes 1000000 --no-demo-steps   # the community build only
    python bench/demo_scale.py --database-url postgres://postgres@127.0.0.1:5432/convenor_bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from floor_copy import copy_rows

ROOT = Path(__file__).resolve().parent.parent
FLOOR_CHUNK = 50_000


def _floor_rows(lo: int, hi: int) -> list[tuple[int, int, int, str, str, float]]:
    """Six columns, like a typical demo row: ids, a name-sized and a code-sized text, a number."""
    return [(i, i % 997, i % 31, f"Member number {i}", f"code-{i % 9973}", i * 0.5) for i in range(lo, hi)]


def _floor_sqlite(rows: int, folder: Path) -> tuple[float, float]:
    """Seconds, and CPU seconds of this process, spent inserting (not making the rows)."""
    path = folder / "floor.sqlite3"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE floor (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL,"
        " c TEXT NOT NULL, d TEXT NOT NULL, e REAL NOT NULL)"
    )
    spent = cpu = 0.0
    con.execute("BEGIN")
    for lo in range(0, rows, FLOOR_CHUNK):
        chunk = _floor_rows(lo, min(rows, lo + FLOOR_CHUNK))
        started, cpu_started = time.perf_counter(), time.process_time()
        con.executemany("INSERT INTO floor (id, a, b, c, d, e) VALUES (?, ?, ?, ?, ?, ?)", chunk)
        spent += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.process_time()
    con.execute("COMMIT")
    spent += time.perf_counter() - started
    cpu += time.process_time() - cpu_started
    con.close()
    return spent, cpu


def _floor_sqlite_same_tables(source_path: Path, tables: list[str], folder: Path) -> tuple[float, float, int]:
    """The build's own rows into a fresh file with the same tables, without their indexes.

    The tables are created from the build's own ``CREATE TABLE`` statements (columns,
    types, checks, primary keys and inline UNIQUE constraints), but none of the secondary
    indexes the build must also make, and foreign keys are not checked: a lower bound on
    writing these rows. Returns seconds and CPU seconds spent inserting and committing,
    and the rows copied; reading the rows back is not timed.
    """
    return copy_rows(source_path, folder / "floor-tables.sqlite3", tables, indexes=False)


def _floor_django(rows: int) -> float:
    """The floor on the configured (PostgreSQL) database, through the same cursor as the build."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(
            "CREATE TABLE bench_floor (id BIGINT PRIMARY KEY, a BIGINT NOT NULL, b BIGINT NOT NULL,"
            " c TEXT NOT NULL, d TEXT NOT NULL, e DOUBLE PRECISION NOT NULL)"
        )
    spent = 0.0
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        spent += time.perf_counter() - started
        for lo in range(0, rows, FLOOR_CHUNK):
            chunk = _floor_rows(lo, min(rows, lo + FLOOR_CHUNK))
            started = time.perf_counter()
            cursor.executemany("INSERT INTO bench_floor (id, a, b, c, d, e) VALUES (%s, %s, %s, %s, %s, %s)", chunk)
            spent += time.perf_counter() - started
        started = time.perf_counter()
    spent += time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return spent


def child(members: int, folder: Path, *, demo_steps: bool = True) -> dict[str, Any]:
    """Runs in its own process, so its peak memory is this size's alone."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convenor.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from convenor.people.demo import STEP_SECONDS, _reset_models, build_demo, run_demo_steps

    call_command("migrate", interactive=False, verbosity=0)
    # On SQLite the data folder is new; a PostgreSQL database may hold an earlier run.
    reset = connection.vendor != "sqlite"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The community (people, conversations, events) is what is measured against the floor;
    # the later apps' DEMO_STEPS run after it and are reported on their own.
    started, cpu_started = time.perf_counter(), time.process_time()
    result = build_demo(members=members, seed=1, reset=reset, steps=False)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    present = set(connection.introspection.table_names())
    rows = 0
    written: list[str] = []
    with connection.cursor() as cursor:
        for model in _reset_models():
            table = model._meta.db_table
            if table in present:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
                count = int(cursor.fetchone()[0])
                rows += count
                if count:
                    written.append(table)
    floor_cpu: float | None = None
    bare: dict[str, Any] = {}
    if connection.vendor == "sqlite":
        connection.close()
        floor, floor_cpu, copied = _floor_sqlite_same_tables(Path(connection.settings_dict["NAME"]), written, folder)
        assert copied == rows, (copied, rows)
        bare_floor, bare_cpu = _floor_sqlite(rows, folder)
        bare = {
            "bare_floor_seconds": round(bare_floor, 2),
            "bare_floor_cpu_seconds": round(bare_cpu, 2),
            "bare_ratio": round(seconds / bare_floor, 2),
            "bare_cpu_ratio": round(cpu / bare_cpu, 2) if bare_cpu else None,
        }
    else:
        floor = _floor_django(rows)
    community_steps = {k: round(v, 2) for k, v in STEP_SECONDS.items()}
    started = time.perf_counter()
    if demo_steps:
        run_demo_steps(result, seed=1)
    steps_seconds = time.perf_counter() - started
    return {
        "members": members,
        "database": connection.vendor,
        "build_seconds": round(seconds, 2),
        "peak_mb": round(peak_mb, 1),
        "peak_mb_before_build": round(rss_before / 1024, 1),
        "rows": rows,
        "tables": len(written),
        "rows_per_second": round(rows / seconds),
        "floor_seconds": round(floor, 2),
        "ratio": round(seconds / floor, 2),
        # On SQLite all the work is in this process: CPU seconds (all threads) compare the
        # build and the floor even when other work on the machine slows the clock down.
        # Not the target (that is `ratio`); None on PostgreSQL, whose work is the server's.
        "build_cpu_seconds": round(cpu, 2) if floor_cpu is not None else None,
        "floor_cpu_seconds": round(floor_cpu, 2) if floor_cpu is not None else None,
        "cpu_ratio": round(cpu / floor_cpu, 2) if floor_cpu else None,
        **bare,
        "steps_seconds": community_steps,
        # The later apps' DEMO_STEPS (not part of build_seconds or the ratio), by app.
        "demo_steps_seconds": round(steps_seconds, 2) if demo_steps else None,
        "demo_steps": {app: round(v, 2) for app, v in result.step_seconds.items()},
        "demo_steps_counts": result.extras,
        "peak_mb_with_demo_steps": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="member counts, comma-separated")
    parser.add_argument("--database-url", help="run against this PostgreSQL database (it is reset!)")
    parser.add_argument(
        "--no-demo-steps", action="store_true", help="skip the later apps' DEMO_STEPS after the measured build"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.folder), demo_steps=not args.no_demo_steps)))
        return 0

    results = []
    for size in [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]:
        with tempfile.TemporaryDirectory(prefix="convenor-bench-") as folder:
            env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
            env["CONVENOR_DATA_DIR"] = folder
            env["PYTHONPATH"] = str(ROOT)
            if args.database_url:
                env["DATABASE_URL"] = args.database_url
            proc = subprocess.run(  # noqa: S603  # our own script, with our own interpreter
                [sys.executable, __file__, "--child", str(size), "--folder", folder]
                + (["--no-demo-steps"] if args.no_demo_steps else []),
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return proc.returncode
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # each size as it is done
    print(
        json.dumps(
            {
                "benchmark": "demo_scale",
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "cpus": os.cpu_count(),
                "target_ratio": 3.0,
                "results": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
