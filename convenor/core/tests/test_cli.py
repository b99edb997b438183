"""The `convenor` command, in-process against the test database and as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from convenor import cli
from convenor.core.models import ApiToken, StaffRole, User
from convenor.core.testing import World
from convenor.core.tokens import token_authenticate
from convenor.people.models import Member


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = cli.main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.django_db
def test_createadmin_non_interactive(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["createadmin", "--email", "Boss@Northwind.example", "--password", "long-enough-pw"], capsys)
    assert code == 0 and "boss@northwind.example" in out
    user = User.objects.get(email="boss@northwind.example")
    assert user.staff_role == StaffRole.ADMIN and user.check_password("long-enough-pw")
    assert Member.objects.get(user=user).role == "employee"


@pytest.mark.django_db
def test_createadmin_errors_go_to_stderr_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["createadmin", "--email", "not-an-email", "--password", "short"], capsys)
    assert code == 1 and out == ""
    assert "is not a valid email address" in err and "at least 8 characters" in err
    assert "Traceback" not in err


def test_token_create_prints_a_working_token(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["token", "create", world.acme_user.email], capsys)
    assert code == 0
    assert token_authenticate(out.strip()) == world.acme_user
    assert ApiToken.objects.filter(user=world.acme_user).count() == 1


def test_token_create_for_unknown_person_fails(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["token", "create", "nobody@nowhere.example"], capsys)
    assert code == 1 and "no active account" in err


def test_import_members_from_the_command_line(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "contacts.csv"
    f.write_text("email,name,role,organization,title,interests\nzed@acme.example,Zed,customer,Acme,,\n")
    code, out, _ = run(["import", "members", str(f)], capsys)
    assert code == 0 and "1 created" in out
    f.write_text("email,name,role,organization,title,interests\nbroken,Zed,customer,Acme,,\n")
    code, _, err = run(["import", "members", str(f)], capsys)
    assert code == 1 and "line 2: email" in err
    code, _, err = run(["import", "members", str(tmp_path / "missing.csv")], capsys)
    assert code == 1 and "no such file" in err


def test_suggest_merges_from_the_command_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["people", "suggest-merges"], capsys)
    assert code == 0 and "new merge suggestion" in out


def test_the_installed_command_runs_migrate_and_reports_errors(tmp_path: Path) -> None:
    """The console script itself, on a fresh data folder (SQLite), as an operator runs it."""
    exe = Path(sys.executable).parent / "convenor"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["CONVENOR_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run([exe, "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "convenor.sqlite3").exists()
    bad = subprocess.run(
        [exe, "token", "create", "ghost@x.example"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("convenor: error:") and "Traceback" not in bad.stderr
    env["CONVENOR_DEBUG"] = "0"
    prod = subprocess.run([exe, "migrate"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert prod.returncode != 0 and "CONVENOR_SECRET_KEY" in prod.stderr


def _convenor(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    exe = Path(sys.executable).parent / "convenor"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["CONVENOR_DATA_DIR"] = str(tmp_path / "data")
    return exe, env


def _into_closed_pipe(exe: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the command with its stdout a pipe whose reader has already gone, as when
    `| head -1` has read its line and exited before the command prints."""
    proc = subprocess.Popen([exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before the command has started Django and printed anything
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    exe, env = _convenor(tmp_path)
    code, err = _into_closed_pipe(exe, env, "migrate")
    assert (code, err) == (cli.EXIT_BROKEN_PIPE, "")


def test_many_lines_piped_into_head_end_quietly(tmp_path: Path) -> None:
    """`convenor listen run 1 --json | head -1` on a run with thousands of rejections: far
    more than a pipe holds, so the command is still printing when head exits."""
    exe, env = _convenor(tmp_path)
    reviews = tmp_path / "reviews.csv"
    rows = "".join(f"Reviewer {n},9,Title,Some text,2026-03-01\n" for n in range(2000))
    reviews.write_text("author,rating,title,text,date\n" + rows)
    for args in (["migrate"], ["import", "reviews", str(reviews)]):
        done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    script = '"$0" listen run 1 --json | head -1; echo "exit ${PIPESTATUS[0]}" >&2'
    piped = subprocess.run(
        ["/bin/bash", "-c", script, exe],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.stdout == "{\n"
    assert piped.stderr == f"exit {cli.EXIT_BROKEN_PIPE}\n"


def _fts5_segments() -> int:
    """How many segments the posts' FTS5 index has, from its structure record (id 10):
    a 4-byte cookie (and, from SQLite 3.43, a 4-byte version), then varints nLevel, nSegment."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT block FROM spaces_post_fts_data WHERE id = 10")
        block = bytes(cursor.fetchone()[0])
    i = 8 if block[4:8] == b"\xff\x00\x00\x01" else 4
    values = []
    for _ in range(2):
        value = 0
        while True:
            byte = block[i]
            i += 1
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        values.append(value)
    return values[1]


def test_spaces_optimize_search_merges_the_index_into_one_segment(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.db import connection

    from convenor.spaces.search import search_posts
    from convenor.spaces.services import space_create, thread_create

    square = space_create(name="Square", frame="community", visibility="public")
    for i in range(3):
        thread_create(space=square, author=world.acme_member, title=f"Zebra {i}", body="zebra crossings")
    code, out, _ = run(["spaces", "optimize-search"], capsys)
    assert code == 0
    if connection.vendor != "sqlite":
        assert "Nothing to do" in out
        return
    assert "Merged the search index into one segment" in out
    assert _fts5_segments() == 1
    assert search_posts(viewer=world.admin, q="zebr").total == 3


def test_serve_works_on_four_requests_at_once_by_default() -> None:
    """More threads only take turns on Python's one lock (docs/cli.md, operations.md)."""
    from convenor.cli import build_parser

    assert build_parser().parse_args(["serve"]).threads == 4
    assert build_parser().parse_args(["serve", "--threads", "2"]).threads == 2
