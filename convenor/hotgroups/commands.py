"""Hot groups's sub-commands of `convenor` (see docs/cli.md and docs/hotgroups.md)."""

from __future__ import annotations

import argparse
from typing import Any

from convenor.cli import print_json


def cmd_profile(args: argparse.Namespace) -> int:
    from convenor.cli import progress
    from convenor.hotgroups.profiles import profile_refresh

    run = profile_refresh(refit=args.refit, n_topics=args.topics, progress=progress("projecting posts"))
    if args.json:
        print_json(run.as_dict())
    else:
        what = "Fitted a new topic model" if run.refitted else "Brought the profiles up to date"
        print(
            f"{what}: {run.topics} topics, {run.posts_projected:,} posts projected, "
            f"{run.profiles:,} people profiled ({run.interests:,} interests stored) in {run.seconds:.1f}s."
        )
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from convenor.hotgroups import selectors

    rows = [
        {
            "id": t.pk,
            "label": t.label,
            "interest": t.interest_name,
            "terms": t.terms,
            "holders": t.holders,
            "share": round(t.share, 4),
        }
        for t in selectors.topics()
    ]
    if args.json:
        print_json(rows)
    elif not rows:
        print("No topics yet: run `convenor hotgroups profile` first.")
    else:
        for r in rows:
            extra = f" ({r['interest']})" if r["interest"] else ""
            print(f"#{r['id']:<5} {r['holders']:>6} holders  {r['label']}{extra}")
    return 0


def suggestion_dict(s: Any) -> dict[str, Any]:
    from convenor.hotgroups import selectors

    people = selectors.suggestion_people(s)
    return {
        "id": s.pk,
        "interest": s.topic.interest_name or s.topic.label,
        "topic_label": s.topic.label,
        "topic_id": s.topic_id,
        "score": s.score,
        "status": s.status,
        "explanation": s.explanation,
        "members": [
            {
                "id": p.member_id,
                "name": p.member.name,
                "email": p.member.email,
                "role": p.role,
                "organization": p.organization.name if p.organization else None,
                "connector": p.connector,
                "interest_ratio": round(p.ratio, 2),
            }
            for p in people
        ],
        "emails": [p.member.email for p in people],
        "roles": sorted({p.role for p in people}),
        "organizations": sorted({p.organization.name for p in people if p.organization}),
    }


def cmd_suggest(args: argparse.Namespace) -> int:
    from convenor.hotgroups import services

    result = services.suggestions_create(interest=args.interest or "", size=args.size, limit=args.limit)
    rows = [suggestion_dict(s) for s in result.suggestions]
    if args.json:
        print_json({"suggestions": rows, "skipped": result.skipped})
        return 0
    for r in rows:
        print(f"Suggestion #{r['id']} · {r['interest']} · score {r['score']}")
        for m in r["members"]:
            tag = " (connector)" if m["connector"] else ""
            print(f"  {m['email'] or m['name']:<40} {m['role']:<12} {m['organization'] or '-'}{tag}")
        print(f"  {r['explanation']}\n")
    return 0


def cmd_convene(args: argparse.Namespace) -> int:
    from datetime import datetime

    from convenor.cli import CliError
    from convenor.hotgroups import services
    from convenor.hotgroups.models import Suggestion
    from convenor.people.models import Member

    sug = Suggestion.objects.select_related("topic").filter(pk=args.suggestion).first()
    if sug is None:
        raise CliError(f"No suggestion #{args.suggestion}")
    facilitator = Member.objects.filter(email=args.facilitator.strip().lower()).first()
    if facilitator is None:
        raise CliError(f"No member with the email {args.facilitator}")
    try:
        first = datetime.fromisoformat(args.first)
    except ValueError:
        raise CliError(f"--first: {args.first!r} is not a date and time like 2026-12-01T17:00+00:00") from None
    group = services.group_convene(
        suggestion=sug,
        name=args.name or f"{sug.topic.interest_name or sug.topic.label} circle",
        facilitator=facilitator,
        first_at=first,
        recurrence=args.cadence,
        interval=args.interval,
        count=args.count,
        duration_minutes=args.minutes,
        place=args.place,
    )
    if args.json:
        print_json({"group_id": group.pk, "space_id": group.space_id, "series_id": group.series_id})
    else:
        print(f"Convened group #{group.pk} “{group.name}”: invitations sent, gatherings {group.cadence}.")
    return 0


def cmd_groups(args: argparse.Namespace) -> int:
    from convenor.hotgroups import selectors
    from convenor.hotgroups.models import Group

    rows = [
        {
            "id": g.pk,
            "name": g.name,
            "interest": g.topic_label,
            "facilitator": g.facilitator.email,
            "members": g.live,  # type: ignore[attr-defined]  # annotated by group_list
            "invited": g.invited,  # type: ignore[attr-defined]  # annotated by group_list
            "cadence": g.cadence,
            "state": g.state,
        }
        for g in selectors.group_list(Group.objects.all())
    ]
    if args.json:
        print_json(rows)
    elif not rows:
        print("No groups yet.")
    else:
        for r in rows:
            print(
                f"#{r['id']:<5} {r['name']:<40} {r['members']:>3} members, {r['invited']:>3} invited  {r['interest']}"
            )
    return 0


def cmd_spread(args: argparse.Namespace) -> int:
    from convenor.cli import CliError
    from convenor.hotgroups.models import Group, GroupState
    from convenor.hotgroups.wom import spread_measure

    groups = Group.objects.filter(state=GroupState.ACTIVE)
    if args.group is not None:
        groups = Group.objects.filter(pk=args.group)
        if not groups.exists():
            raise CliError(f"No group #{args.group}")
    out = []
    for g in groups:
        for s in spread_measure(group=g):
            out.append(
                {
                    "group_id": g.pk,
                    "group": g.name,
                    "event_id": s.event_id,
                    "treated": s.treated,
                    "controls": s.controls,
                    "lift": s.lift,
                    "ci_low": s.ci_low,
                    "ci_high": s.ci_high,
                    "complete": s.complete,
                }
            )
    if args.json:
        print_json(out)
    elif not out:
        print("Nothing to measure yet: no group has had a gathering (or the map or profiles are missing).")
    else:
        for r in out:
            print(
                f"group #{r['group_id']} gathering {r['event_id']}: lift {r['lift']:+.2f} "
                f"(95% {r['ci_low']:+.2f} to {r['ci_high']:+.2f}), "
                f"{r['treated']} neighbours vs {r['controls']} controls"
                + ("" if r["complete"] else " (window not over)")
            )
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from convenor.cli import CliError
    from convenor.hotgroups.models import Group
    from convenor.hotgroups.selectors import group_health

    group = Group.objects.filter(pk=args.group).first()
    if group is None:
        raise CliError(f"No group #{args.group}")
    health = group_health(group).as_dict()
    if args.json:
        print_json(health)
    else:
        t = health["ties"]
        print(
            f"{group.name}: {health['members']} members, {health['invited']} invited, "
            f"{len(health['gatherings'])} gatherings held, {health['posts']} posts in its space; "
            f"{t['new_among_members']} new ties among members, {t['new_beyond']} new neighbours beyond."
        )
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]],
) -> None:
    """Add this app's sub-commands. `groups` holds the shared groups (such as "import")."""
    hg = sub.add_parser("hotgroups", help="suggest, convene and follow hot groups").add_subparsers(
        dest="hotgroups_command", required=True
    )

    p = hg.add_parser("profile", help="find topics in the community's text and build interest profiles")
    p.add_argument("--refit", action="store_true", help="fit a new topic model instead of projecting new posts")
    p.add_argument("--topics", type=int, help="number of topics (3 to 40; default: the declared interests in use)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_profile)

    p = hg.add_parser("topics", help="list the topics with their labels and how many people hold each")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_topics)

    p = hg.add_parser("suggest", help="propose groups that share an interest (stored as suggestions)")
    p.add_argument("--interest", help="an interest in words (default: across every topic)")
    p.add_argument("--size", type=int, default=10, help="people per group (5 to 30, default 10)")
    p.add_argument("--limit", type=int, default=3, help="how many groups (1 to 50, default 3)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_suggest)

    p = hg.add_parser("convene", help="convene a suggestion: space, recurring gatherings, invitations")
    p.add_argument("suggestion", type=int, help="the suggestion's id")
    p.add_argument("--facilitator", required=True, help="the facilitating employee's email")
    p.add_argument("--first", required=True, help="the first gathering, like 2026-12-01T17:00+00:00")
    p.add_argument("--name", default="", help="the group's name (default: the interest)")
    p.add_argument("--cadence", choices=["weekly", "monthly"], default="monthly")
    p.add_argument("--interval", type=int, default=1, help="every N weeks or months (default 1)")
    p.add_argument("--count", type=int, default=6, help="number of gatherings (2 to 52, default 6)")
    p.add_argument("--minutes", type=int, default=90, help="length of a gathering (default 90)")
    p.add_argument("--place", default="", help="where it meets")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_convene)

    p = hg.add_parser("groups", help="list the convened groups")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_groups)

    p = hg.add_parser("spread", help="measure word of mouth after each gathering (all active groups or one)")
    p.add_argument("group", type=int, nargs="?", help="one group's id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_spread)

    p = hg.add_parser("health", help="a group's attendance, activity and new ties")
    p.add_argument("group", type=int, help="the group's id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_health)
