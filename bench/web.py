"""Pages under load: the production server on loopback, loaded by wrk from another process.

In a temporary data folder (or --data-dir, kept and reused by the next run with the same
database and --posts; SQLite, or the PostgreSQL database given with --database-url, which
is reset when built), a child process builds the demo community (2,000 members) and, in
bulk like the demo, a public space "Bench" with 10,000 threads, one thread of 200 posts,
and posts up to 1,000,000 in all for search (the FTS triggers, or the tsvector column on
PostgreSQL, index them as they are inserted; on SQLite the index is then merged into one
segment, as `convenor spaces optimize-search` does after a bulk import). It also creates
sessions for 50 demo customers (giving an account to those the demo left without one).
Each logged-in request sends that customer's session and CSRF cookies, as their browser
does after a first page, and every request says it takes gzip, as every browser does (the
kept pages are sent compressed: convenor/web/gzipped.py).

Then ``convenor serve`` (waitress, its default 4 threads, CONVENOR_DEBUG=0) runs on a free loopback port and
``wrk`` loads, one after the other, after a short warm-up each:

- ``fixed``: ``/healthz``, the fixed string;
- ``thread`` and ``space``: the thread page (its first page: 100 of the 200 posts, the page
  size) and the space page, **anonymous**, as the public and search engines read a public
  space: these are served from the page cache (convenor/web/pagecache.py), which checks
  the thread's or space's version with one query per request;
- ``thread_logged_in`` and ``space_logged_in``: the same pages logged in, each request as
  the next of the 50 customers (so nothing kept for one viewer serves the others): the
  page kept for readers alike, made each one's (their top bar, reactions, Edit links and
  CSRF token: views_spaces.py);
- ``search``: five queries rotated by a Lua script, logged in (rotating the customers);
  after the warm-up their results come from the search cache (keyed by the versions of the
  spaces searched);
- ``search_anonymous``: the same five queries by a visitor (public spaces only);
- ``search_distinct``: 2,000 different queries from the demo's vocabulary, logged in, no
  warm-up, nearly all of them uncached: what a query nobody asked in the last five minutes
  costs.

The fixed view is loaded again just before every other target, and that target's ratio is
over that run (the load of a shared machine drifts within a run); all its runs are printed.
Prints JSON with requests/s, p50/p95/p99 latency, errors, each page's requests/s over the
fixed view's, and every target checked.

Targets (the issue's): thread and space pages at least 1/3 of the fixed view's requests/s
with p99 under 100 ms; search p95 under 150 ms. Checked for every variant above (the
anonymous and the logged-in pages; the cached and the distinct queries).

    python bench/web.py                           # SQLite, 10 s per target
    python bench/web.py --data-dir /tmp/web-bench # keep the data; the next run reuses it
    python bench/web.py --duration 5 --posts 200000 --only thread_logged_in,search_distinct
    python bench/web.py --database-url postgres://postgres@127.0.0.1:5432/convenor_bench2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16
THREADS_IN_SPACE = 10_000
POSTS_IN_THREAD = 200
# Logged-in targets rotate over this many customers' sessions.
SESSIONS = 50
QUERIES = ["batches", "backlog alert", "incremental mode", "service account", "schema drift"]
LUA = r"""
local paths = {PATHS}
local cookies = {COOKIES}
local i = math.random(#paths)
local j = math.random(math.max(#cookies, 1))
request = function()
  i = i % #paths + 1
  if #cookies > 0 then
    j = j % #cookies + 1
    return wrk.format("GET", paths[i], {["Cookie"] = cookies[j], ["Accept-Encoding"] = "gzip, deflate, br"})
  end
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip, deflate, br"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _distinct_queries(n: int = 2000) -> list[str]:
    """Different queries from the demo's vocabulary: single terms, word pairs, and prefixes."""
    from convenor.spaces import demo_phrases as ph

    words = sorted({w.lower() for bank in ph.TERMS.values() for t in bank for w in re.findall(r"[A-Za-z]{4,}", t)})
    out: list[str] = []
    for i, a in enumerate(words):
        out.append(a)
        out.append(a[:5])
        for b in words[i + 1 : i + 40]:
            out.append(f"{a} {b}")
    rng = random.Random(7)
    rng.shuffle(out)
    return out[:n]


def _title(template: str, term: str) -> str:
    return template.format(term=term, Term=term[:1].upper() + term[1:])


def build(posts_total: int) -> dict[str, Any]:
    """In the child: the demo, the bench space and its posts, and a logged-in session."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convenor.settings")
    import django

    django.setup()
    import numpy as np
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection, transaction

    from convenor.core.models import User
    from convenor.people.demo import Fixed, _insert, _max_id, _timestamps, build_demo
    from convenor.people.models import Member, Role
    from convenor.spaces import demo_phrases as ph
    from convenor.spaces.models import Post, Space, Thread
    from convenor.spaces.search import search_index_optimize
    from convenor.spaces.services import space_create

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    build_demo(members=2000, seed=1, reset=connection.vendor != "sqlite")
    demo_seconds = time.perf_counter() - started
    rng = np.random.default_rng(5)
    started = time.perf_counter()
    with transaction.atomic():
        space = space_create(name="Bench", frame="community", visibility="public")
        members = np.array(Member.objects.values_list("pk", flat=True), dtype=np.int64)
        staff = set(Member.objects.filter(role=Role.EMPLOYEE).values_list("pk", flat=True))
        # Distinct posts from the demo (body, html, text), reused: the words are what matter.
        samples = list(Post.objects.values_list("body", "html", "text")[:3000])
        n_threads = THREADS_IN_SPACE
        # Thread 0 has POSTS_IN_THREAD posts; the rest share what is left of posts_total.
        existing = Post.objects.count()
        rest = max(n_threads - 1, posts_total - existing - POSTS_IN_THREAD)
        per = np.full(n_threads, rest // (n_threads - 1), dtype=np.int64)
        per[1 : 1 + rest % (n_threads - 1)] += 1
        per[0] = POSTS_IN_THREAD
        total = int(per.sum())
        now = int(time.time())
        with connection.cursor() as cursor:
            thread_base = _max_id(cursor, Thread._meta.db_table) + 1
            post_base = _max_id(cursor, Post._meta.db_table) + 1
            start = now - 3600 - rng.integers(0, 500 * 86400, n_threads)
            start[0] = now - 86400 * 30
            author = members[rng.integers(0, len(members), n_threads)]
            p_thread = np.repeat(np.arange(n_threads), per)
            first = np.r_[0, np.cumsum(per)[:-1]]
            pos = np.arange(total) - first[p_thread]
            p_time = start[p_thread] + pos * 600
            p_author = np.where(pos == 0, author[p_thread], members[rng.integers(0, len(members), total)])
            by_staff = np.isin(p_author, list(staff))
            pick = rng.integers(0, len(samples), total)
            terms = [t for bank in ph.TERMS.values() for t in bank]
            titles = [
                _title(ph.QUESTION_TITLES[i % len(ph.QUESTION_TITLES)], terms[i % len(terms)]) for i in range(n_threads)
            ]
            staff_replies = np.bincount(p_thread, weights=by_staff & (pos > 0), minlength=n_threads).astype(np.int64)
            _insert(
                cursor,
                Thread._meta.db_table,
                {
                    "id": (thread_base + np.arange(n_threads)).tolist(),
                    "space_id": Fixed(space.pk),
                    "title": titles,
                    "kind": Fixed("question"),
                    "author_id": author.tolist(),
                    "created_at": _timestamps(start),
                    "last_post_at": _timestamps(start + (per - 1) * 600),
                    "pinned": Fixed(False),
                    "locked": Fixed(False),
                    "needs_staff": Fixed(False),
                    "accepted_post_id": Fixed(None),
                    "reply_count": (per - 1).tolist(),
                    "staff_reply_count": staff_replies.tolist(),
                    "reaction_count": Fixed(0),
                },
            )
            for lo in range(0, total, 100_000):
                hi = min(total, lo + 100_000)
                chosen = [samples[i] for i in pick[lo:hi].tolist()]
                _insert(
                    cursor,
                    Post._meta.db_table,
                    {
                        "id": (post_base + np.arange(lo, hi)).tolist(),
                        "thread_id": (thread_base + p_thread[lo:hi]).tolist(),
                        "author_id": p_author[lo:hi].tolist(),
                        "parent_id": Fixed(None),
                        "body": [c[0] for c in chosen],
                        "html": [c[1] for c in chosen],
                        "text": [c[2] for c in chosen],
                        "by_staff": by_staff[lo:hi].tolist(),
                        "created_at": _timestamps(p_time[lo:hi]),
                        "edited_at": Fixed(None),
                        "reaction_count": Fixed(0),
                    },
                )
        Space.objects.filter(pk=space.pk).update(thread_count=n_threads, post_count=total)
    bench_seconds = time.perf_counter() - started
    # After a bulk load, as an operator would (`convenor spaces optimize-search`): SQLite's
    # search index merged into one segment.
    started = time.perf_counter()
    search_index_optimize()
    optimize_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # Sessions for demo customers, as if each had logged in once: the logged-in targets
    # rotate over them, so nothing kept for one viewer serves all the requests.
    # The demo gives only two customers an account: give the next ones theirs (no password,
    # as if invited), so that the rotation really spans SESSIONS different readers.
    missing = SESSIONS - User.objects.filter(member__role=Role.CUSTOMER).count()
    if missing > 0:
        taken = set(User.objects.values_list("email", flat=True))
        chosen = [
            m
            for m in Member.objects.filter(
                role=Role.CUSTOMER, user__isnull=True, email__isnull=False, affiliations__ended_on__isnull=True
            )
            .exclude(email="")
            .distinct()
            .order_by("email")[: missing * 2]
            if m.email and m.email.lower() not in taken
        ][:missing]
        for member in chosen:
            account = User(email=str(member.email).lower(), name=member.name)
            account.set_unusable_password()
            account.save()
            Member.objects.filter(pk=member.pk).update(user=account)
    users = list(User.objects.filter(member__role=Role.CUSTOMER).order_by("email")[:SESSIONS])
    assert users
    sessions = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        assert session.session_key is not None
        sessions.append(session.session_key)
    return {
        "space_slug": space.slug,
        "thread_id": thread_base,
        "posts": Post.objects.count(),
        "threads_in_space": n_threads,
        "sessions": sessions,
        "users": len(users),
        "build_seconds": {
            "demo": round(demo_seconds, 1),
            "bench_posts": round(bench_seconds, 1),
            "search_optimize": round(optimize_seconds, 1),
        },
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_wrk() -> str:
    """wrk from Debian, installed here (as root) when missing, like the Makefile's chromium."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)  # noqa: S603  # Debian's own client
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)  # noqa: S603
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def _lua_list(items: list[str]) -> str:
    return "{" + ", ".join(json.dumps(i) for i in items) + "}"


def _csrf_secret() -> str:
    """A CSRF secret in Django's form: 32 characters of CSRF_ALLOWED_CHARS."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _read_through(files: Iterable[Path]) -> None:
    """Read the database files once, so their pages are in the operating system's cache, as
    they are on a server that has been running: the distinct queries, which have no warm-up,
    would otherwise measure the disk the first time each part of the index is touched (a
    query that takes 2 ms took 1.2 s on a file just copied)."""
    for file in files:
        with file.open("rb") as f:
            while f.read(1 << 24):
                pass


def _wrk(wrk: str, url: str, paths: list[str], cookies: list[str], seconds: int, folder: Path) -> dict[str, Any]:
    script = folder / "paths.lua"
    script.write_text(LUA.replace("{PATHS}", _lua_list(paths)).replace("{COOKIES}", _lua_list(cookies)))
    cmd = [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout  # noqa: S603  # our own arguments
    match = re.search(r"^RESULT (.*)$", out, re.MULTILINE)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{out}")
    raw = json.loads(match.group(1))
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "requests_per_second": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "requests": raw["requests"],
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="run against this PostgreSQL database (it is reset!)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts in all, for search")
    parser.add_argument("--threads", type=int, default=4, help="waitress worker threads (convenor serve's default)")
    parser.add_argument(
        "--data-dir", help="keep the built data (and reuse it on the next run with the same database and --posts)"
    )
    parser.add_argument("--only", help="comma-separated targets to load (default: all)")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print("BUILT " + json.dumps(build(args.build)))
        return 0

    wrk = _ensure_wrk()
    if args.data_dir:
        folder = Path(args.data_dir).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return _run(args, wrk, folder)
    with tempfile.TemporaryDirectory(prefix="convenor-web-") as tmp:
        return _run(args, wrk, Path(tmp))


def _run(args: argparse.Namespace, wrk: str, folder: Path) -> int:
    # What was built, and the secret key its sessions were signed with, kept in the data
    # folder: --data-dir reuses them when the database and the post count are the same.
    marker = folder / "built.json"
    wanted = {"database_url": args.database_url or "", "posts": args.posts, "sessions": SESSIONS}
    previous = json.loads(marker.read_text()) if marker.exists() else {}
    reuse = previous.get("wanted") == wanted
    secret = previous["secret_key"] if reuse else secrets.token_urlsafe(50)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        CONVENOR_DATA_DIR=str(folder),
        CONVENOR_DEBUG="0",
        CONVENOR_SECRET_KEY=secret,
        CONVENOR_ALLOWED_HOSTS="127.0.0.1",
        PYTHONPATH=str(ROOT),
    )
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if reuse:
        built = previous["built"]
        built["reused"] = True
        # The code may have new migrations since the data was built. One that cannot apply
        # (a migration rewritten since) is reported; the pages measured may not need it.
        migrated = subprocess.run(  # our own interpreter, Django's own command
            [sys.executable, "-m", "django", "migrate", "--settings=convenor.settings", "-v0"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if migrated.returncode != 0:
            print(f"migrate failed on the reused data:\n{migrated.stderr[-2000:]}", file=sys.stderr)
    else:
        marker.unlink(missing_ok=True)
        if not args.database_url:
            for stale in folder.glob("convenor.sqlite3*"):
                stale.unlink()
        started = time.perf_counter()
        proc = subprocess.run(  # noqa: S603  # our own script, with our own interpreter
            [sys.executable, __file__, "--build", str(args.posts)], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return proc.returncode
        built = json.loads(proc.stdout.split("BUILT ", 1)[1])
        built["seconds"] = round(time.perf_counter() - started, 1)
        marker.write_text(json.dumps({"wanted": wanted, "secret_key": secret, "built": built}))
    # Each customer's cookies as their browser sends them after a first page: the session, and
    # the CSRF secret that page set (without one, every page would make a new secret).
    sessions = [f"sessionid={key}; csrftoken={_csrf_secret()}" for key in built["sessions"]]
    if not args.database_url:
        _read_through(folder.glob("convenor.sqlite3*"))
    port = _free_port()
    convenor = str(Path(sys.executable).with_name("convenor"))
    server_log = (folder / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603  # our own command
        [convenor, "serve", "--port", str(port), "--threads", str(args.threads)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe nobody reads: waitress logs "Task queue depth is N" under load,
        # and once a pipe's buffer is full the server blocks writing it and answers nothing.
        stderr=server_log,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:  # noqa: S310  # our own loopback URL
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        thread_path = f"/threads/{built['thread_id']}/"
        space_path = f"/spaces/{built['space_slug']}/"
        searches = [f"/search/?q={q.replace(' ', '+')}" for q in QUERIES]
        distinct = [f"/search/?q={q.replace(' ', '+')}" for q in _distinct_queries()]
        targets: dict[str, tuple[list[str], list[str]]] = {
            "fixed": (["/healthz"], []),
            "thread": ([thread_path], []),
            "space": ([space_path], []),
            "thread_logged_in": ([thread_path], sessions),
            "space_logged_in": ([space_path], sessions),
            "search": (searches, sessions),
            "search_anonymous": (searches, []),
            "search_distinct": (distinct, sessions),
        }
        only = set(args.only.split(",")) if args.only else set(targets)
        results: dict[str, Any] = {}
        fixed_runs: list[float] = []
        for name, (paths, cookies) in targets.items():
            if name != "fixed" and name not in only:
                continue
            if name != "fixed":
                # The fixed view again just before each target, as the reference for its
                # ratio: on a shared machine the load drifts within a run.
                fixed_now = _wrk(wrk, url, *targets["fixed"], args.duration, folder)["requests_per_second"]
                fixed_runs.append(fixed_now)
            # No warm-up for the distinct queries: it would fill the cache they are meant to miss.
            if name != "search_distinct":
                _wrk(wrk, url, paths, cookies, args.warmup, folder)
            results[name] = _wrk(wrk, url, paths, cookies, args.duration, folder)
            if name != "fixed":
                results[name]["fixed_requests_per_second"] = fixed_now
                results[name]["ratio_to_fixed"] = round(results[name]["requests_per_second"] / fixed_now, 3)
    finally:
        server.terminate()
        server.wait(timeout=10)
        server_log.close()
    results["fixed"]["runs_requests_per_second"] = [results["fixed"]["requests_per_second"], *fixed_runs]
    checks: dict[str, bool] = {}
    for name in ("thread", "space", "thread_logged_in", "space_logged_in"):
        if name in results:
            checks[f"{name}_ratio_ok"] = results[name]["ratio_to_fixed"] >= 1 / 3
            checks[f"{name}_p99_ok"] = results[name]["p99_ms"] < 100
    for name in ("search", "search_anonymous", "search_distinct"):
        if name in results:
            checks[f"{name}_p95_ok"] = results[name]["p95_ms"] < 150
    print(
        json.dumps(
            {
                "benchmark": "web",
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "database": "postgresql" if args.database_url else "sqlite",
                "cpus": os.cpu_count(),
                "server": f"waitress, {args.threads} threads",
                "connections": CONNECTIONS,
                "duration_seconds": args.duration,
                "logged_in_as": f"{len(sessions)} demo customers, one session each, rotated per request",
                "judged_on": "every target: thread and space pages anonymous and logged in; search "
                "with the five rotated queries and with 2,000 distinct (uncached) ones",
                "data": built,
                "results": results,
                "targets_met": checks,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
