"""How fast a Slack export is imported, against the floor of a plain executemany.

Generates Slack workspace exports (default: 1,000,000 messages from 20,000 people in 20
channels, with threads, reactions and brand mentions), and for each size imports it into
a fresh SQLite database in a child process (`convenor.listening.services.import_file`,
the path `convenor import slack` takes) and reports messages per second and the child's
peak memory (ru_maxrss). Peak memory measured at two sizes shows whether it grows with the
export (it should not: the import streams day files and writes batches).

The floor, measured in the same run on the largest size: the very rows the import wrote
(outside posts, activities, brand mentions, members, identities, affiliations), read
back and inserted with plain ``executemany`` in one transaction into a fresh SQLite file
with the same tables and indexes (only the insert time counts). Target: the import's
rate is at least a quarter of the floor's (``ratio`` >= 0.25). ``cpu_ratio`` is the same
ratio in processor seconds, which a busy machine disturbs less.

    python bench/ingest.py                                  # 250k and 1M messages
    python bench/ingest.py --sizes 20000,80000 --people 2000  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from floor_copy import copy_rows

ROOT = Path(__file__).resolve().parent.parent
FLOOR_TABLES = (
    "people_member",
    "people_identity",
    "people_affiliation",
    "listening_outsidepost",
    "listening_brandmention",
    "activity_activity",
)


def _django(data: Path) -> None:
    os.environ["CONVENOR_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convenor.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_import(data: Path, export: Path) -> dict[str, Any]:
    _django(data)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from convenor.listening.services import import_file

    started, cpu = time.perf_counter(), time.process_time()
    run = import_file(importer="slack", path=export)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "created": run.created,
        "activities": run.activities,
        "people_created": run.people_created,
        "rejected": run.rejected,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def child_floor(data: Path) -> dict[str, Any]:
    """Insert the rows the import wrote into a fresh file with the same schema."""
    seconds, cpu, rows = copy_rows(data / "convenor.sqlite3", data / "floor.sqlite3", FLOOR_TABLES, indexes=True)
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "rows": rows}


def _child(mode: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603  # this script, with our own arguments
        [sys.executable, __file__, "--child", mode, *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if out.returncode != 0:
        raise SystemExit(f"child {mode} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="250000,1000000", help="message counts, comma-separated")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        result = child_import(Path(rest[0]), Path(rest[1])) if mode == "import" else child_floor(Path(rest[0]))
        print(json.dumps(result))
        return

    sys.path.insert(0, str(ROOT))
    from convenor.listening.slack_export import generate

    sizes = [int(s) for s in args.sizes.split(",")]
    report: dict[str, Any] = {
        "benchmark": "ingest",
        "python": platform.python_version(),
        "database": "sqlite",
        "people": args.people,
        "channels": args.channels,
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="convenor-bench-ingest-") as tmp:
        for size in sizes:
            export = Path(tmp) / f"slack-{size}.zip"
            started = time.perf_counter()
            made = generate(export, people=args.people, messages=size, channels=args.channels, seed=7)
            generated = time.perf_counter() - started
            data = Path(tmp) / f"data-{size}"
            data.mkdir()
            result = _child("import", str(data), str(export))
            entry: dict[str, Any] = {
                "messages": made["messages"],
                "export_mb": round(export.stat().st_size / 1e6, 1),
                "generate_seconds": round(generated, 1),
                **result,
                "messages_per_second": round(made["messages"] / result["seconds"]),
            }
            if size == max(sizes):
                floor = _child("floor", str(data))
                entry["floor_rows"] = floor["rows"]
                entry["floor_seconds"] = floor["seconds"]
                entry["floor_messages_per_second"] = round(made["messages"] / max(floor["seconds"], 1e-9))
                entry["ratio"] = round(entry["messages_per_second"] / entry["floor_messages_per_second"], 3)
                # Processor time, which other work on a shared machine disturbs far less than
                # wall time (SQLite runs in the measuring process).
                entry["floor_cpu_seconds"] = floor["cpu_seconds"]
                entry["cpu_ratio"] = round(floor["cpu_seconds"] / max(result["cpu_seconds"], 1e-9), 3)
                entry["target_ratio"] = 0.25
            report["runs"].append(entry)
            export.unlink()
            print(json.dumps(entry), file=sys.stderr, flush=True)
    peaks = [r["peak_rss_mb"] for r in report["runs"]]
    report["peak_rss_growth"] = round(peaks[-1] / peaks[0], 2) if len(peaks) > 1 else None
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
