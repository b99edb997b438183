"""Feedback's sub-commands of `convenor` (see docs/cli.md and docs/feedback.md)."""

from __future__ import annotations

import argparse
from typing import Any

from convenor.cli import print_json


def _staff_user(email: str) -> Any:
    from convenor.cli import CliError
    from convenor.core import access
    from convenor.core.models import User

    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise CliError(f"no active account with email {email}")
    if not access.can_manage_feedback(user):
        raise CliError(f"{email} is not an admin, community manager or product staff member")
    return user


def cmd_list(args: argparse.Namespace) -> int:
    """Ideas, as staff see them (every board), sorted and filtered like the board page."""
    from convenor.cli import CliError
    from convenor.feedback.models import Board, IdeaStatus
    from convenor.feedback.selectors import SORTS, idea_list

    if args.sort not in SORTS:
        raise CliError(f"--sort must be one of {', '.join(SORTS)}")
    if args.status and args.status not in IdeaStatus.values:
        raise CliError(f"--status must be one of {', '.join(IdeaStatus.values)}")
    from convenor.core.models import StaffRole, User

    # The command line runs as the operator: it sees every board, like an admin.
    operator = User(staff_role=StaffRole.ADMIN, is_active=True)
    board = None
    if args.board:
        board = Board.objects.filter(slug=args.board).first()
        if board is None:
            raise CliError(f"no board with slug {args.board!r}")
    ideas = idea_list(viewer=operator, board=board, sort=args.sort, q=args.q or "", status=args.status or "")
    rows = [
        {
            "id": i.pk,
            "board": i.board.slug,
            "title": i.title,
            "status": i.status,
            "votes": i.vote_count,
            "comments": i.comment_count,
            "followers": i.follower_count,
            "author": i.author.name if i.author else None,
            "created_at": i.created_at.isoformat(),
        }
        for i in ideas[: args.limit]
    ]
    if args.json:
        print_json(rows)
    elif not rows:
        print("No ideas match.")
    else:
        for r in rows:
            print(f"#{r['id']:<6} {r['votes']:>5} votes  {r['status']:<12} {r['board']:<20} {r['title']}")
    return 0


def cmd_boards(args: argparse.Namespace) -> int:
    from convenor.feedback.models import Board

    rows = [
        {
            "id": b.pk,
            "slug": b.slug,
            "name": b.name,
            "visibility": b.visibility,
            "organization": b.organization.name if b.organization else None,
            "ideas": b.idea_count,
        }
        for b in Board.objects.select_related("organization").order_by("name")
    ]
    if args.json:
        print_json(rows)
    elif not rows:
        print("No boards yet: create one with `convenor feedback board-create`.")
    else:
        for r in rows:
            extra = f" ({r['organization']})" if r["organization"] else ""
            print(f"{r['slug']:<28} {r['visibility']:<8} {r['ideas']:>6} ideas  {r['name']}{extra}")
    return 0


def cmd_board_create(args: argparse.Namespace) -> int:
    from convenor.cli import CliError
    from convenor.core import access
    from convenor.feedback.services import board_create
    from convenor.people.models import Organization

    user = _staff_user(args.by)
    org = None
    if args.organization:
        org = Organization.objects.filter(name_key=args.organization.strip().lower()).first()
        if org is None:
            raise CliError(f"no organisation called {args.organization!r}")
    board = board_create(
        name=args.name,
        visibility=args.visibility,
        description=args.description,
        organization=org,
        creator=access.viewer_member(user),
        actor=user,
    )
    print(f"Created board {board.slug} ({board.visibility}).")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from convenor.cli import CliError
    from convenor.feedback.models import Idea
    from convenor.feedback.services import status_change

    user = _staff_user(args.by)
    idea = Idea.objects.filter(pk=args.idea).first()
    if idea is None:
        raise CliError(f"no idea #{args.idea}")
    change = status_change(idea=idea, to_status=args.status, note=args.note, by=user)
    if args.json:
        print_json({"id": change.pk, "from": change.from_status, "to": change.to_status, "loop": change.loop})
    else:
        loop = change.loop
        print(
            f"#{idea.pk} is now {change.to_status}: {loop.get('notified', 0)} notified, "
            f"{len(loop.get('replies', []))} replies posted, {len(loop.get('announcements', []))} spaces told."
        )
        for skipped in loop.get("skipped", []):
            print(f"  not posted: {skipped}")
    return 0


def cmd_recount(args: argparse.Namespace) -> int:
    from convenor.feedback.services import recount_all

    wrong = recount_all()
    if args.json:
        print_json({"repaired": wrong})
    else:
        print(f"Recounted every idea and board: {wrong} had wrong counts and were repaired.")
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]],
) -> None:
    """Add this app's sub-commands. `groups` holds the shared groups (such as "import")."""
    fb = sub.add_parser("feedback", help="boards, ideas, votes and statuses").add_subparsers(
        dest="feedback_command", required=True
    )

    p = fb.add_parser("list", help="list ideas, top voted first")
    p.add_argument("--board", help="a board's slug")
    p.add_argument("--status", help="new, under_review, planned, in_progress, shipped or declined")
    p.add_argument("--sort", default="top", help="top (default), new or trending")
    p.add_argument("-q", help="words in the title or description")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = fb.add_parser("boards", help="list the boards")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_boards)

    p = fb.add_parser("board-create", help="create a board")
    p.add_argument("name")
    p.add_argument("--visibility", default="members", help="public, members (default) or account")
    p.add_argument("--organization", help="the customer of an account board, by name")
    p.add_argument("--description", default="")
    p.add_argument("--by", required=True, help="the email of the staff member creating it")
    p.set_defaults(func=cmd_board_create)

    p = fb.add_parser("status", help="change an idea's status and close the loop")
    p.add_argument("idea", type=int, help="the idea's number")
    p.add_argument("status", help="new, under_review, planned, in_progress, shipped or declined")
    p.add_argument("--note", default="", help="what to tell voters, followers and the conversations")
    p.add_argument("--by", required=True, help="the email of the staff member changing it")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_status)

    p = fb.add_parser("recount", help="repair vote, comment, follower and idea counts from the rows")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_recount)
