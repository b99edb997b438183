"""The `convenor` command: the one entry point for operators.

Every sub-command calls services; errors are printed to stderr with a non-zero exit
code, and the traceback is shown only with ``--debug``. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn


class CliError(Exception):
    """A problem the operator can fix; printed without a traceback."""


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convenor.settings")
    import django

    django.setup()


def print_json(data: object) -> None:
    """Print `data` as indented JSON for the sub-commands' --json (dates and ids as text)."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def progress(label: str) -> Callable[[int, int], None]:
    """A progress report on stderr for long work: one line updated in place at a terminal,
    otherwise a line every few seconds. A total of 0 means "not known": rows only."""
    started = time.monotonic()
    tty = sys.stderr.isatty()
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        finished = total > 0 and done >= total
        if not finished and now - last[0] < (0.2 if tty else 5.0):
            return
        last[0] = now
        amount = f"{done:,}/{total:,} rows ({100 * done // total}%)" if total else f"{done:,} rows"
        line = f"{label}: {amount}, {now - started:.1f}s"
        if tty:
            print("\r" + line.ljust(60), end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    return report


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    print("Database is up to date.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from convenor.web.server import serve
    from convenor.wsgi import application

    call_command("migrate", interactive=False, verbosity=0)
    print(f"Convenor is serving at http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
    serve(application, host=args.host, port=args.port, threads=args.threads, ident="convenor")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from convenor.people.demo import build_demo

    if args.members < 1:
        raise CliError("--members must be at least 1")
    call_command("migrate", interactive=False, verbosity=0)
    result = build_demo(members=args.members, seed=args.seed, reset=args.reset, progress=progress("demo"))
    if sys.stderr.isatty():
        print(file=sys.stderr)  # end the progress line
    print(result.summary())
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from convenor.core.models import StaffRole
    from convenor.people.services import account_create

    email = args.email or input("Email: ").strip()
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            raise CliError("give --password when not at a terminal")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CliError("the two passwords differ")
    user = account_create(email=email, password=password, name=args.name or "", staff_role=StaffRole.ADMIN)
    print(f"Created admin {user.email}.")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from convenor.core.models import User
    from convenor.core.tokens import token_create

    user = User.objects.filter(email=args.email.strip().lower(), is_active=True).first()
    if user is None:
        raise CliError(f"no active account with email {args.email}")
    _, key = token_create(user=user, name=args.name or "cli")
    print(key)
    return 0


def _import(kind: str, path: str) -> int:
    from convenor.people.imports import import_members_csv, import_relationships_csv

    file = Path(path)
    if not file.is_file():
        raise CliError(f"{path}: no such file")
    fn = import_members_csv if kind == "members" else import_relationships_csv
    with file.open("rb") as fh:
        result = fn(fh, filename=file.name)
    print(result.summary())
    return 0


def cmd_import_members(args: argparse.Namespace) -> int:
    return _import("members", args.file)


def cmd_import_relationships(args: argparse.Namespace) -> int:
    return _import("relationships", args.file)


def cmd_suggest_merges(args: argparse.Namespace) -> int:
    from convenor.people.services import merge_suggestions_refresh

    added = merge_suggestions_refresh()
    print(f"{added} new merge suggestion(s). Review them at /people/merge-suggestions/.")
    return 0


def cmd_spaces_create(args: argparse.Namespace) -> int:
    from convenor.people.models import Organization
    from convenor.spaces.services import space_create

    org = None
    if args.organization:
        org = Organization.objects.filter(name_key=args.organization.strip().lower()).first()
        if org is None:
            raise CliError(f"no organisation called {args.organization!r}")
    if args.visibility == "group":
        raise CliError("group spaces are made by convening a hot group, not from the command line")
    space = space_create(
        name=args.name,
        frame=args.frame,
        visibility=args.visibility,
        description=args.description or "",
        organization=org,
    )
    print(f"Created {space.frame} space {space.name!r} ({space.visibility}) at /spaces/{space.slug}/")
    return 0


def cmd_spaces_list(args: argparse.Namespace) -> int:
    from convenor.spaces.models import Space

    for s in Space.objects.select_related("organization").order_by("name"):
        org = f" [{s.organization.name}]" if s.organization else ""
        print(f"{s.slug}\t{s.frame}\t{s.visibility}{org}\t{s.thread_count} threads\t{s.name}")
    return 0


def cmd_spaces_optimize_search(args: argparse.Namespace) -> int:
    import time

    from convenor.spaces.search import search_index_optimize

    started = time.perf_counter()
    if search_index_optimize():
        print(f"Merged the search index into one segment in {time.perf_counter() - started:.1f} s")
    else:
        print("Nothing to do: PostgreSQL keeps its own search index")
    return 0


def cmd_events_list(args: argparse.Namespace) -> int:
    import json

    from convenor.core.models import StaffRole, User
    from convenor.events import calendar as ics
    from convenor.events import selectors

    # The operator sees every event, as an admin would: an unsaved admin stands in for them.
    operator = User(staff_role=StaffRole.ADMIN, is_active=True)
    events = selectors.event_list(viewer=operator, when="past" if args.past else "upcoming")
    rows = [
        {
            "id": e.pk,
            "title": e.title,
            "frame": e.frame,
            "starts_at": e.starts_at.isoformat(),
            "time_zone": e.time_zone,
            "capacity": e.capacity,
            "confirmed": e.confirmed_count,  # type: ignore[attr-defined]  # annotated by with_counts
            "waitlisted": e.waitlist_count,  # type: ignore[attr-defined]  # annotated by with_counts
            "registrations_by_intent": {
                "user": e.user_count,  # type: ignore[attr-defined]  # annotated by with_counts
                "buyer": e.buyer_count,  # type: ignore[attr-defined]  # annotated by with_counts
                "other": e.other_count,  # type: ignore[attr-defined]  # annotated by with_counts
            },
            "cancelled": e.cancelled_at is not None,
            "ics_url": ics.ics_url(e),
        }
        for e in events
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("No past events." if args.past else "No upcoming events.")
    for r in rows:
        seats = "unlimited" if r["capacity"] is None else f"{r['confirmed']}/{r['capacity']} seats"
        intents = r["registrations_by_intent"]
        assert isinstance(intents, dict)
        by_intent = f"users {intents['user']}, buyers {intents['buyer']}, other {intents['other']}"
        cancelled = " CANCELLED" if r["cancelled"] else ""
        print(
            f"{r['title']}\t{r['frame']}{cancelled}\t{r['starts_at']}\t{seats}\t"
            f"{by_intent}\t{r['waitlisted']} waitlisted\t{r['ics_url']}"
        )
    return 0


def cmd_events_send_surveys(args: argparse.Namespace) -> int:
    from convenor.events.models import Event
    from convenor.events.services import surveys_send

    sent = surveys_send(days=args.days)
    titles = dict(Event.objects.filter(pk__in=list(sent)).values_list("pk", "title"))
    for event_id, count in sent.items():
        print(f"{titles.get(event_id, event_id)}\t{count} attendee(s) asked")
    total = sum(sent.values())
    print(f"Asked {total} attendee(s) of {len(sent)} event(s) for the framing-fit survey.")
    return 0


def cmd_notify_digest(args: argparse.Namespace) -> int:
    from convenor.spaces.services import digests_send

    sent = digests_send(frequency=args.frequency)
    print(f"Sent {sent} {args.frequency} digest(s).")
    return 0


def cmd_charter_train(args: argparse.Namespace) -> int:
    from convenor.charter.services import charter_model_train

    print(charter_model_train().summary())
    return 0


def cmd_charter_retrain(args: argparse.Namespace) -> int:
    from convenor.charter.services import charter_model_train

    print(charter_model_train(with_extra=True).summary())
    return 0


def cmd_charter_check(args: argparse.Namespace) -> int:
    import json

    from convenor.charter.detector import score

    text = sys.stdin.read()
    result = score(text, threshold=args.threshold)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    verdict = "promotional" if result.promotional else "community"
    print(f"{verdict} (probability {result.probability:.3f}, threshold {result.threshold:.2f})")
    for reason in result.reasons:
        print(f"  {reason.weight:+.2f}  {reason.describe()}")
    return 0


def cmd_charter_eval(args: argparse.Namespace) -> int:
    import json

    from convenor.charter.detector import get_model, read_jsonl

    file = Path(args.file)
    if not file.is_file():
        raise CliError(f"{args.file}: no such file")
    examples, problems = read_jsonl(file, skip_bad=True)
    for problem in problems:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if not examples:
        raise CliError(f"{args.file}: no usable lines")
    metrics = get_model().evaluate(examples, threshold=args.threshold)
    if args.json:
        print(json.dumps(metrics.as_dict()))
    else:
        for key, value in metrics.as_dict().items():
            print(f"{key}: {value}")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="convenor", description="Convenor: a self-hosted business community.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("migrate", help="create or update the database tables")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="serve the web pages and the API")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    # Python runs one thread at a time: more threads only overlap waits (the database, the
    # network), and each hand-over costs; 4 did best of 1, 2, 4 and 8 (docs/operations.md).
    p.add_argument("--threads", type=int, default=4, help="worker threads (default 4)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="build a demo business community (does not serve)")
    p.add_argument("--members", type=int, default=500, help="how many people (200 to 1,000,000; default 500)")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same community")
    p.add_argument("--reset", action="store_true", help="delete everything first")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("createadmin", help="create an admin account")
    p.add_argument("--email")
    p.add_argument("--password")
    p.add_argument("--name")
    p.set_defaults(func=cmd_createadmin)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", metavar="ACTION")
    token.required = True
    p = token.add_parser("create", help="print a new API token for a person")
    p.add_argument("email")
    p.add_argument("--name", help="a label for the token")
    p.set_defaults(func=cmd_token_create)

    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    imp = sub.add_parser("import", help="import data from files").add_subparsers(dest="import_command", metavar="KIND")
    imp.required = True
    groups["import"] = imp
    p = imp.add_parser("members", help="members from CSV: email,name,role,organization,title,interests")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_members)
    p = imp.add_parser("relationships", help="relationships from CSV: source,target,kind,weight")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_relationships)

    people = sub.add_parser("people", help="people housekeeping").add_subparsers(
        dest="people_command", metavar="ACTION"
    )
    people.required = True
    p = people.add_parser("suggest-merges", help="find members who may be one person")
    p.set_defaults(func=cmd_suggest_merges)

    spaces = sub.add_parser("spaces", help="spaces for conversations").add_subparsers(
        dest="spaces_command", metavar="ACTION"
    )
    spaces.required = True
    p = spaces.add_parser("create", help="create a space")
    p.add_argument("name")
    p.add_argument("--frame", required=True, choices=["community", "commercial"])
    p.add_argument("--visibility", default="members", choices=["public", "members", "account", "group"])
    p.add_argument("--organization", help="the customer organisation, for an account space")
    p.add_argument("--description")
    p.set_defaults(func=cmd_spaces_create)
    p = spaces.add_parser("list", help="list every space")
    p.set_defaults(func=cmd_spaces_list)
    p = spaces.add_parser("optimize-search", help="merge the search index into one segment (SQLite; weekly from cron)")
    p.set_defaults(func=cmd_spaces_optimize_search)

    events = sub.add_parser("events", help="events framed as community or commercial").add_subparsers(
        dest="events_command", metavar="ACTION"
    )
    events.required = True
    p = events.add_parser("list", help="list upcoming (or past) events with their registrations and .ics URL")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--past", action="store_true", help="events that have ended, latest first")
    p.set_defaults(func=cmd_events_list)
    p = events.add_parser(
        "send-surveys", help="ask the attendees of events that ended for the framing-fit survey (run from cron)"
    )
    p.add_argument("--days", type=int, default=30, help="look at events that ended in the last DAYS days (default 30)")
    p.set_defaults(func=cmd_events_send_surveys)

    notify = sub.add_parser("notify", help="notifications").add_subparsers(dest="notify_command", metavar="ACTION")
    notify.required = True
    p = notify.add_parser("digest", help="email the daily or weekly digests that are due (run from cron)")
    p.add_argument("--frequency", required=True, choices=["daily", "weekly"])
    p.set_defaults(func=cmd_notify_digest)
    charter = sub.add_parser("charter", help="the community charter's promotional-content detector").add_subparsers(
        dest="charter_command", metavar="ACTION"
    )
    charter.required = True
    p = charter.add_parser("train", help="build the detector's model from the corpus and print its measured quality")
    p.set_defaults(func=cmd_charter_train)
    p = charter.add_parser("retrain", help="rebuild the model from the corpus, extra.jsonl and moderators' decisions")
    p.set_defaults(func=cmd_charter_retrain)
    p = charter.add_parser("check", help="score a text read from stdin and print the reasons")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--threshold", type=float, help="probability at or above which a text is promotional")
    p.set_defaults(func=cmd_charter_check)
    p = charter.add_parser("eval", help="measure the shipped model on a labelled JSONL file (never trains on it)")
    p.add_argument("file", help='JSONL, one {"text": ..., "label": "promotional"|"community"} per line')
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--threshold", type=float, help="probability at or above which a text is promotional")
    p.set_defaults(func=cmd_charter_eval)

    # Each later domain app adds its own sub-commands from its `commands` module.
    from convenor.feedback import commands as feedback_commands
    from convenor.graph import commands as graph_commands
    from convenor.hotgroups import commands as hotgroups_commands
    from convenor.listening import commands as listening_commands

    for module in (graph_commands, listening_commands, feedback_commands, hotgroups_commands):
        module.register(sub, groups)
    return parser


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"convenor: error: {message}", file=sys.stderr)
    sys.exit(code)


# The exit code when whoever reads our output stops early (`convenor ... | head`): 128 plus
# SIGPIPE's number, what a shell reports for a tool that SIGPIPE ended.
EXIT_BROKEN_PIPE = 141


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit has somewhere to
    write the rest of the buffer instead of failing on the closed pipe again."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):
        return  # not a real file (a test's captured output): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader closed the pipe (`| head -1` has its line): stop quietly, as Unix tools
        # do, following "Note on SIGPIPE" in Python's signal module documentation.
        _stdout_to_devnull()
        sys.exit(EXIT_BROKEN_PIPE)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup()
        result: int = args.func(args)
        # Flushed here, inside the try, so a closed pipe is seen now rather than at exit.
        sys.stdout.flush()
        return result
    except BrokenPipeError:
        raise  # an OSError, but not an error to report: main() ends quietly
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if args.debug:
            raise
        from django.core.exceptions import ImproperlyConfigured
        from django.db import DatabaseError

        from convenor.core.errors import ApplicationError

        if isinstance(exc, ApplicationError):
            details = "".join(f"\n  {field}: {'; '.join(msgs)}" for field, msgs in exc.fields.items())
            _fail(exc.message + details)
        if isinstance(exc, CliError | ImproperlyConfigured | OSError | DatabaseError):
            _fail(str(exc))
        _fail(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)")


if __name__ == "__main__":
    sys.exit(main())
