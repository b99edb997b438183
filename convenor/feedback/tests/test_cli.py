"""`convenor feedback list|boards|board-create|status|recount`."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import close_old_connections, connection

from convenor import cli
from convenor.core.errors import ApplicationError
from convenor.core.testing import World
from convenor.feedback import services
from convenor.feedback.models import Board, Idea, IdeaStatus, Vote


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = cli.main(args)
    except SystemExit as exc:  # errors exit with their status
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_boards_status_and_recount(
    world: World, public_board: Board, acme_board: Board, capsys: pytest.CaptureFixture[str]
) -> None:
    a = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    services.idea_create(board=acme_board, author=world.acme_member, title="Acme SSO")
    services.vote_cast(idea=a, member=world.globex_member)
    code, out, _ = run(["feedback", "list"], capsys)
    assert code == 0 and out.splitlines()[0].startswith(f"#{a.pk}") and "Acme SSO" in out
    code, out, _ = run(["feedback", "list", "--json", "--board", public_board.slug], capsys)
    assert [(r["title"], r["votes"]) for r in json.loads(out)] == [("Dark mode", 1)]
    code, out, err = run(["feedback", "list", "--sort", "loudest"], capsys)
    assert code != 0 and "--sort must be one of" in err
    code, out, _ = run(["feedback", "boards", "--json"], capsys)
    assert {r["slug"]: r["ideas"] for r in json.loads(out)} == {public_board.slug: 1, acme_board.slug: 1}
    code, out, _ = run(
        ["feedback", "board-create", "Roadmap", "--visibility", "public", "--by", "admin@northwind.example"], capsys
    )
    assert code == 0 and Board.objects.filter(slug="roadmap").exists()
    code, out, err = run(["feedback", "status", str(a.pk), "planned", "--by", "carla@acme.example"], capsys)
    assert code != 0 and "not an admin" in err
    code, out, _ = run(
        ["feedback", "status", str(a.pk), "planned", "--note", "Q3", "--by", "admin@northwind.example"], capsys
    )
    assert code == 0 and "is now planned: 2 notified" in out
    Idea.objects.filter(pk=a.pk).update(vote_count=7)
    code, out, _ = run(["feedback", "recount", "--json"], capsys)
    assert json.loads(out) == {"repaired": 1}
    a.refresh_from_db()
    assert a.vote_count == 1 and a.status == IdeaStatus.PLANNED


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_votes_count_once(world: World, public_board: Board) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Race")
    errors: list[str] = []
    barrier = threading.Barrier(6)

    def vote() -> None:
        try:
            barrier.wait()
            services.vote_cast(idea=idea, member=world.globex_member)
        except ApplicationError as err:
            errors.append(str(err.code))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=vote) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    idea.refresh_from_db()
    assert Vote.objects.filter(idea=idea).count() == 1 == idea.vote_count
    assert errors == ["duplicate"] * 5
