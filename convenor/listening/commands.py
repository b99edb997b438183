"""Listening's sub-commands of `convenor` (see docs/cli.md and docs/listening.md):
`convenor import rss|discourse|slack|mbox|reviews` and the `convenor listen` group."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

IMPORT_HELP = {
    "rss": ("FILE|URL", "an RSS or Atom feed: posts and their comments"),
    "discourse": ("FILE|DIR|URL", "a Discourse forum's JSON: latest.json, t/{id}.json, users"),
    "slack": ("FILE.zip", "a Slack workspace export (zip)"),
    "mbox": ("FILE|URL", "a mailing-list archive (mbox), threads rebuilt"),
    "reviews": ("FILE|URL", "reviews from review sites: CSV or JSON (author,rating,title,text,date,url)"),
}
MAX_LISTED = 20


def _print_run(run: Any, *, listed: int | None = MAX_LISTED) -> None:
    """The run's summary, then its rejected records on stderr: the first `listed` of them and
    where to see the rest, or every one (listed=None, as `convenor listen run ID` prints them)."""
    from convenor.listening.services import run_summary

    print(run_summary(run))
    rejections = list(run.rejections.all() if listed is None else run.rejections.all()[:listed])
    for r in rejections:
        print(f"  rejected: {r.file} {r.position}: {r.reason}", file=sys.stderr)
    if run.rejected > len(rejections):
        print(
            f"  ... and {run.rejected - len(rejections):,} more (see `convenor listen run {run.pk}`)", file=sys.stderr
        )


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from convenor.cli import CliError, progress
    from convenor.listening import services
    from convenor.listening.models import ImporterKind

    kind = args.importer
    target = args.target
    if target.startswith(("http://", "https://")):
        if kind not in services.URL_IMPORTERS:
            raise CliError(f"{kind} imports read a file, not a URL")
        source = services.source_for_import(importer=kind, url=target, name=args.source or "")
        if args.refresh is not None:
            services.source_update(source=source, refresh_minutes=args.refresh)
        run = services.import_url(source=source, progress=progress(f"import {kind}"), force=args.force)
    else:
        path = Path(target)
        if not path.exists():
            raise CliError(f"{target}: no such file")
        run = services.import_file(
            importer=ImporterKind(kind),
            path=path,
            source=services.source_find(importer=kind, filename=path.name, name=args.source or ""),
            source_name=args.source or "",
            filename=str(target),
            progress=progress(f"import {kind}"),
        )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    _print_run(run)
    return 0


def _source(ref: str) -> Any:
    from convenor.cli import CliError
    from convenor.listening.models import Source

    found = Source.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
    found = found or Source.objects.filter(key=ref).first() or Source.objects.filter(name=ref).first()
    if found is None:
        raise CliError(f"no source {ref!r} (see `convenor listen sources`)")
    return found


def cmd_sources(args: argparse.Namespace) -> int:
    from convenor.listening import selectors

    rows = [
        {
            "id": s.pk,
            "name": s.name,
            "key": s.key,
            "importer": s.importer,
            "conduit": s.conduit,
            "url": s.url,
            "refresh_minutes": s.refresh_minutes,
            "last_fetched_at": s.last_fetched_at.isoformat() if s.last_fetched_at else None,
            "posts": s.n_posts,  # type: ignore[attr-defined]  # annotated by source_list
        }
        for s in selectors.source_list()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No sources yet: `convenor import ...` or `convenor listen add` creates one.")
    for r in rows:
        every = f", every {r['refresh_minutes']} min" if r["refresh_minutes"] else ""
        print(f"{r['id']:>4}  {r['name']}  [{r['importer']}, {r['conduit']}{every}]  {r['posts']:,} posts  {r['url']}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from convenor.listening.services import source_create

    s = source_create(
        name=args.name,
        importer=args.importer,
        conduit=args.conduit or "",
        url=args.url or "",
        refresh_minutes=args.refresh,
    )
    print(f"Added source {s.pk}: {s.name} ({s.key}).")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from convenor.cli import progress
    from convenor.core.errors import ApplicationError
    from convenor.listening import services

    if args.source:
        try:
            runs = [services.import_url(source=_source(args.source), progress=progress("refresh"), force=args.force)]
        except ApplicationError:
            runs = [_source(args.source).runs.order_by("-started_at", "-id").first()]
    else:
        runs = services.sources_refresh_due(progress=lambda s: progress(f"refresh {s.name}"))
    if not runs:
        print("No source is due.")
    failed = 0
    for run in runs:
        _print_run(run)
        failed += run.status == "failed"
    return 1 if failed else 0


def cmd_runs(args: argparse.Namespace) -> int:
    from convenor.listening import selectors

    runs = list(selectors.run_list(failed_only=args.problems)[: args.limit])
    if args.json:
        print(json.dumps([_run_dict(r) for r in runs], indent=2))
        return 0
    if not runs:
        print("No import runs yet.")
    for r in runs:
        print(
            f"{r.pk:>5}  {r.started_at:%Y-%m-%d %H:%M}  {r.status:<12} {r.importer:<9} "
            f"{r.created:>7,} new {r.updated:>6,} upd "
            f"{r.skipped:>7,} skip {r.rejected:>6,} rej  {r.seconds:6.1f}s  {r.filename}"
        )
    return 0


def _run_dict(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "source": r.source.name if r.source else None,
        "importer": r.importer,
        "filename": r.filename,
        "status": r.status,
        "created": r.created,
        "updated": r.updated,
        "skipped": r.skipped,
        "rejected": r.rejected,
        "activities": r.activities,
        "people_created": r.people_created,
        "seconds": round(r.seconds, 3),
        "started_at": r.started_at.isoformat(),
        "error": r.error,
    }


def cmd_run(args: argparse.Namespace) -> int:
    from convenor.cli import CliError
    from convenor.listening.models import ImportRun

    run = ImportRun.objects.filter(pk=args.id).first()
    if run is None:
        raise CliError(f"no import run {args.id}")
    if args.json:
        data = _run_dict(run)
        data["rejections"] = [
            {"file": x.file, "position": x.position, "reason": x.reason} for x in run.rejections.all()
        ]
        print(json.dumps(data, indent=2))
        return 0
    _print_run(run, listed=None)
    return 0


def cmd_sov(args: argparse.Namespace) -> int:
    from convenor.listening import selectors

    sov = selectors.share_of_voice(by=args.by or "", segment=args.segment)
    if args.json:
        print(json.dumps(sov.as_dict(), indent=2))
        return 0

    def pct(v: float | None) -> str:
        return "  n/a" if v is None else f"{100 * v:4.0f}%"

    print(f"Share of voice: {pct(sov.share)} ({sov.ours:,} mentions of us, {sov.competitors:,} of competitors)")
    for b in sov.brands:
        sentiment = "n/a" if b["sentiment"] is None else b["sentiment"]
        print(f"  {b['name']:<30} {b['mentions']:>7,}  sentiment {sentiment}")
    if sov.rows:
        print(f"By {args.by}{' (' + args.segment + ')' if args.by == 'segment' else ''}:")
        for r in sov.rows:
            print(f"  {r['label']!s:<30} {pct(r['share'])}  ours {r['ours']:>6,}  competitors {r['competitors']:>6,}")
    if sov.trend_change is not None:
        print(f"Trend: {100 * sov.trend_change:+.0f} points from {sov.trend[0]['key']} to {sov.trend[-1]['key']}")
    return 0


def cmd_hangouts(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from convenor.listening import selectors

    segments = selectors.hangouts(segment=args.segment, include_employees=args.employees)
    if args.json:
        print(json.dumps([asdict(s) for s in segments], indent=2))
        return 0
    if not segments:
        print("Nothing imported yet.")
    for s in segments:
        print(f"{s.name}: {s.people:,} people, {s.posts:,} posts")
        for p in s.places:
            sent = "n/a" if p.sentiment is None else f"{p.sentiment:+.2f}"
            print(
                f"  {p.conduit_label:<16} {p.source_name} {p.space:<20} {p.posts:>6,} posts  "
                f"sentiment {sent}  {', '.join(p.topics)}"
            )
    return 0


def _brand(name: str) -> Any:
    from convenor.cli import CliError
    from convenor.people.models import Organization

    org = Organization.objects.filter(name_key=name.strip().lower()).first()
    if org is None:
        raise CliError(f"no organisation named {name!r}")
    return org


def cmd_aliases(args: argparse.Namespace) -> int:
    from convenor.listening import selectors

    for b in selectors.brands():
        mark = "ours" if b["ours"] else "competitor"
        print(f"{b['organization'].name} ({mark}): {', '.join(a.alias for a in b['aliases']) or '(its name only)'}")
    return 0


def cmd_alias_add(args: argparse.Namespace) -> int:
    from convenor.listening.services import brand_alias_add

    alias = brand_alias_add(organization=_brand(args.organization), alias=args.alias)
    print(f"{alias.organization.name} is now also found as {alias.alias!r}; mentions recounted.")
    return 0


def cmd_alias_remove(args: argparse.Namespace) -> int:
    from convenor.cli import CliError
    from convenor.listening.models import BrandAlias
    from convenor.listening.services import brand_alias_remove

    org = _brand(args.organization)
    alias = BrandAlias.objects.filter(organization=org, alias__iexact=args.alias.strip()).first()
    if alias is None:
        raise CliError(f"{org.name} has no alias {args.alias!r}")
    brand_alias_remove(alias=alias)
    print(f"Removed {args.alias!r} from {org.name}; mentions recounted.")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from convenor.cli import progress
    from convenor.listening.services import mentions_rebuild

    n = mentions_rebuild(progress=progress("mentions"))
    print(f"{n:,} brand mentions.")
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]],
) -> None:
    """Add this app's sub-commands. `groups` holds the shared groups (such as "import")."""
    imp = groups["import"]
    for kind, (metavar, help_text) in IMPORT_HELP.items():
        p = imp.add_parser(kind, help=help_text)
        p.add_argument("target", metavar=metavar)
        p.add_argument("--source", help="the source's name (default: the file's name, or the URL)")
        if kind in ("rss", "discourse", "mbox", "reviews"):
            p.add_argument("--refresh", type=int, metavar="MINUTES", help="with a URL: refresh it this often")
            p.add_argument("--force", action="store_true", help="with a URL: fetch even if unchanged")
        else:
            p.set_defaults(refresh=None, force=False)
        p.set_defaults(func=cmd_import, importer=kind)

    listen = sub.add_parser("listen", help="outside conduits: sources, runs, share of voice").add_subparsers(
        dest="listen_command", metavar="ACTION"
    )
    listen.required = True
    p = listen.add_parser("sources", help="list the sources listened to")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_sources)
    p = listen.add_parser("add", help="add a source (a URL to refresh, or a place for file imports)")
    p.add_argument("name")
    p.add_argument("--importer", required=True, choices=list(IMPORT_HELP))
    p.add_argument("--url")
    p.add_argument("--conduit", choices=["reviews", "blog", "forum", "chat", "mailing_list", "crm"])
    p.add_argument("--refresh", type=int, metavar="MINUTES", help="fetch the URL again this often (at least 5)")
    p.set_defaults(func=cmd_add)
    p = listen.add_parser("refresh", help="fetch the sources that are due (run from cron), or one source")
    p.add_argument("--source", help="a source's id, key or name: refresh it now")
    p.add_argument("--force", action="store_true", help="fetch even if unchanged")
    p.set_defaults(func=cmd_refresh)
    p = listen.add_parser("runs", help="list import runs")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--problems", action="store_true", help="only runs that failed or rejected records")
    p.add_argument("--limit", type=int, default=30)
    p.set_defaults(func=cmd_runs)
    p = listen.add_parser("run", help="one import run and its rejected records")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_run)
    p = listen.add_parser("sov", help="share of voice: our mentions over ours plus competitors'")
    p.add_argument("--by", choices=["conduit", "segment", "month"])
    p.add_argument("--segment", choices=["industry", "organization", "role"], default="industry")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_sov)
    p = listen.add_parser("hangouts", help="where each segment of customers hangs out, and what it talks about")
    p.add_argument("--segment", choices=["industry", "organization", "role"], default="industry")
    p.add_argument("--employees", action="store_true", help="count our employees too")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_hangouts)
    p = listen.add_parser("aliases", help="the brand lexicon: our company's and competitors' aliases")
    p.set_defaults(func=cmd_aliases)
    p = listen.add_parser("alias-add", help="add an alias (a product name) to our company or a competitor")
    p.add_argument("organization")
    p.add_argument("alias")
    p.set_defaults(func=cmd_alias_add)
    p = listen.add_parser("alias-remove", help="remove an alias from a brand")
    p.add_argument("organization")
    p.add_argument("alias")
    p.set_defaults(func=cmd_alias_remove)
    p = listen.add_parser("rebuild-mentions", help="find every brand mention again (after editing aliases)")
    p.set_defaults(func=cmd_rebuild)
