"""The map's sub-commands of `convenor` (see docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time

FORMATS = ("graphml", "gexf", "csv", "svg", "png")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _end_progress() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    from convenor.cli import progress
    from convenor.graph.services import build_map

    if args.incremental:
        return cmd_update(args)
    result = build_map(window_days=365 if args.window is None else args.window, progress=progress("map build (phases)"))
    _end_progress()
    print(result.summary())
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    from convenor.cli import progress
    from convenor.graph.services import update_map

    result = update_map(window_days=getattr(args, "window", None), progress=progress("map update (phases)"))
    _end_progress()
    print(result.summary())
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from convenor.cli import CliError, progress
    from convenor.graph.services import snapshot_create, snapshot_delete

    if args.delete:
        snapshot_delete(label=args.label)
        print(f"Deleted the snapshot '{args.label}'.")
        return 0
    start = datetime.combine(args.date_from, time.min, tzinfo=UTC) if args.date_from else None
    end = datetime.combine(args.date_to, time.max, tzinfo=UTC) if args.date_to else None
    if start and end and start >= end:
        raise CliError("--from must come before --to")
    if start and not end:
        from datetime import timedelta

        end = min(datetime.now(tz=UTC), start + timedelta(days=365))
    result = snapshot_create(label=args.label, start=start, end=end, progress=progress("map snapshot (phases)"))
    _end_progress()
    print(result.summary())
    return 0


def cmd_snapshots(args: argparse.Namespace) -> int:
    from convenor.graph.selectors import map_list

    for m in map_list():
        print(f"{m.label or 'current'}\t{m.window_from:%Y-%m-%d}..{m.window_to:%Y-%m-%d}\t{m.node_count:,} nodes"
              f"\t{m.line_count:,} lines\tbuilt {m.built_at:%Y-%m-%d %H:%M}")  # fmt: skip
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from convenor.graph.compare import compare, map_by_name

    result = compare(map_by_name(args.a), map_by_name(args.b))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"From {result['before']['label']} to {result['after']['label']}:")
    print("Lines by kind (before -> after, +gained, -lost):")
    for kind, c in result["lines"].items():
        print(f"  {kind:<14} {c['before']:>9,} -> {c['after']:>9,}   +{c['gained']:,} -{c['lost']:,}")
    for key, title in (
        ("people_rising", "People rising in influence"),
        ("people_falling", "People falling in influence"),
        ("organizations_rising", "Organisations rising"),
        ("organizations_falling", "Organisations falling"),
    ):
        if result[key]:
            print(f"{title}:")
            for mv in result[key]:
                print(f"  {mv['label']:<30} {mv['before']:.5f} -> {mv['after']:.5f}")
    for c in result["communities_split"]:
        print(f"Community around {c['name']} ({c['people']} people) split into {len(c['into'])}.")
    for c in result["communities_merged"]:
        print(f"{len(c['from'])} communities merged into the one around {c['name']} ({c['people']} people).")
    if result["newly_bridged_organizations"]:
        print("Newly bridged organisations:")
        for b in result["newly_bridged_organizations"]:
            a, z = b["organizations"]
            print(f"  {a['name']} <-> {z['name']} ({b['lines']} lines)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from convenor.graph.compare import map_by_name
    from convenor.graph.exports import export_map

    result = export_map(map_by_name(args.snapshot or "current"), fmt=args.format, path=args.out)
    print(result.summary())
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]],
) -> None:
    """Add this app's sub-commands. `groups` holds the shared groups (such as "import")."""
    mp = sub.add_parser("map", help="the community map: build, snapshot, compare, export").add_subparsers(
        dest="map_command", metavar="ACTION"
    )
    mp.required = True
    p = mp.add_parser("build", help="build the current map from the last DAYS days (progress on stderr)")
    p.add_argument("--window", type=int, metavar="DAYS", help="days of activity to map (default 365)")
    p.add_argument(
        "--incremental", action="store_true", help="update the current map with what is new instead (as `map update`)"
    )
    p.set_defaults(func=cmd_build)
    p = mp.add_parser(
        "update", help="fold the activity since the last build or update into the current map (daily; see docs/map.md)"
    )
    p.set_defaults(func=cmd_update)
    p = mp.add_parser("snapshot", help="build and keep a map of a period under a label, such as 2026")
    p.add_argument("--label", required=True, help="the snapshot's name (must be new)")
    p.add_argument(
        "--from", dest="date_from", type=_day, metavar="DATE", help="first day (default: a year before --to)"
    )
    p.add_argument("--to", dest="date_to", type=_day, metavar="DATE", help="last day (default: today)")
    p.add_argument("--delete", action="store_true", help="delete the snapshot of that label instead")
    p.set_defaults(func=cmd_snapshot)
    p = mp.add_parser("snapshots", help="list the current map and the snapshots")
    p.set_defaults(func=cmd_snapshots)
    p = mp.add_parser("compare", help="what changed between two snapshots (or 'current')")
    p.add_argument("a", help="the earlier snapshot's label, or 'current'")
    p.add_argument("b", help="the later snapshot's label, or 'current'")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_compare)
    p = mp.add_parser("export", help="write the map to a file")
    p.add_argument("--format", required=True, choices=FORMATS)  # kept in step with graph.exports.FORMATS
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--snapshot", metavar="LABEL", help="export this snapshot instead of the current map")
    p.set_defaults(func=cmd_export)
