"""Full-text search over posts: SQLite FTS5 by default, PostgreSQL full text on PostgreSQL.

Both index a post's body and its thread's title (migration 0002 builds the index and keeps
it in step with triggers or a generated column). Results are restricted in SQL to the
spaces the viewer may read, ranked (bm25 / ts_rank), highlighted and paginated.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from convenor.core import access
from convenor.core.access import AnyUser

_OPEN, _CLOSE = "\x01", "\x02"
# Counting or ranking every match of a common word costs too much: the newest COUNT_CAP + 1
# matches the viewer may read are ranked (all of them when there are fewer), and past
# COUNT_CAP the page says "1,000+ results" (and offers the pages those fill).
COUNT_CAP = 1000
CACHE_SECONDS = 300
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Hit:
    post_id: int
    thread_id: int
    thread_title: str
    space_id: int
    space_name: str
    space_slug: str
    author_id: int
    author_name: str
    created_at: object
    snippet_html: str
    rank: float


@dataclass
class SearchPage:
    hits: list[Hit]
    # The number of matches, counted up to COUNT_CAP + 1: more than COUNT_CAP means "many".
    total: int
    page: int
    page_size: int

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // self.page_size))


def _highlight(raw: str) -> str:
    """Escape the snippet's text (as Django's escape does, without its wrapper's cost), then
    turn the markers into <mark> tags."""
    return html.escape(raw, quote=True).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def fts5_query(text: str, *, prefix: bool = True) -> str:
    """User words to an FTS5 query: every word must appear; the last one may be a prefix,
    unless it is a single character (no prefix index holds those, and FTS5 would merge the
    index entries of every word starting with that letter).

    Quoting every word means FTS5 operators typed by the user (NEAR, OR, quotes, columns)
    are taken as words, so no input can make the MATCH expression invalid.
    """
    words = _WORD.findall(text)[:20]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    if prefix and len(words[-1]) > 1:
        quoted[-1] += "*"
    return " ".join(quoted)


def search_posts(
    *,
    viewer: AnyUser,
    q: str,
    space_id: int | None = None,
    author_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
    readable: list[tuple[int, int]] | None = None,
) -> SearchPage:
    """Posts matching `q` in spaces the viewer may read, best first.

    Results are cached, keyed by the query and by the id and ``version`` of every space the
    viewer may read: a post, an edit or a reaction in any of them bumps its version, so a
    cached page is never stale (except for names changed elsewhere, for at most CACHE_SECONDS).
    `readable`, the (id, version) of the spaces the viewer may read sorted by id, saves the
    query when the caller already has them; it must come from access.visible_spaces(viewer) (or visible_space_rows).
    """
    page = max(1, page)
    if readable is None:
        readable = [(int(pk), int(v)) for pk, v in access.visible_space_rows(viewer, ("pk", "version"), "pk")]
    spaces = readable
    if space_id is not None:
        spaces = [s for s in spaces if s[0] == space_id]
    if not q.strip() or not spaces:
        return SearchPage([], 0, page, page_size)
    key = (
        "convenor:search:"
        + hashlib.sha256(repr((connection.vendor, spaces, q, author_id, page, page_size)).encode()).hexdigest()[:32]
    )
    found: SearchPage | None = cache.get(key)
    if found is None:
        found = _search(q, [s[0] for s in spaces], author_id, page, page_size)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _search(q: str, space_ids: list[int], author_id: int | None, page: int, page_size: int) -> SearchPage:
    """One page of matches the viewer may read, best first, among the newest COUNT_CAP + 1.

    Ranking every match of a common word (hundreds of thousands of posts in a big
    community) costs what no page view may: so the index gives the newest matches the
    viewer may read, in post id order (both FTS5 and a backwards scan of the posts' primary
    key stop there), at most COUNT_CAP + 1 of them, and only those are ranked (bm25 /
    ts_rank). A query with at most COUNT_CAP matches is ranked in full; one with more says
    "1,000+ results" and offers the best of the newest COUNT_CAP + 1. The visibility filter
    (the viewer's spaces, published posts of published threads) is in the same query, so the
    candidates are all readable by construction, for private account spaces too.
    """
    # Held and rejected posts (and threads) are never found: only their author and moderators see them.
    filters = [
        f"t.space_id IN ({','.join(['%s'] * len(space_ids))})",
        "p.state = 'published'",
        "t.state = 'published'",
    ]
    params: list[Any] = list(space_ids)
    if author_id is not None:
        filters.append("p.author_id = %s")
        params.append(author_id)
    where = " AND ".join(filters)
    cols = "p.id, t.id, t.title, s.id, s.name, s.slug, m.id, m.name, p.created_at"
    joins = (
        "JOIN spaces_thread t ON t.id = p.thread_id "
        "JOIN spaces_space s ON s.id = t.space_id "
        "JOIN people_member m ON m.id = p.author_id"
    )
    offset = (page - 1) * page_size
    limit = COUNT_CAP + 1
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            candidates = _pg_candidates(cur, q, where, params, limit)
            total = len(candidates)
            # Best first (ts_rank was negated: lower is better, like bm25), then newest.
            candidates.sort(key=lambda c: (c[1], -c[0]))
            ranked = candidates[offset : offset + page_size]
        else:
            fq = fts5_query(q)
            if not fq:
                return SearchPage([], 0, page, page_size)
            # One query finds the newest matches the viewer may read, ranks them, counts
            # them and gives the page's: the last word as a prefix costs what a whole word
            # does, thanks to the prefix indexes (migration 0006), and bm25 reads each word's
            # index entry once per statement for its statistics, then costs little per row.
            total, ranked = _fts5_page(cur, fq, where, params, limit, offset, page_size)
        rows: list[Any] = []
        if ranked:
            ids = [r[0] for r in ranked]
            marks = ",".join(["%s"] * len(ids))
            if connection.vendor == "postgresql":
                cur.execute(
                    f"SELECT {cols}, ts_headline('english', p.text, websearch_to_tsquery('english', %s), "
                    f"'StartSel=\x01,StopSel=\x02,MaxWords=35,MinWords=15,MaxFragments=2') "
                    f"FROM spaces_post p {joins} WHERE p.id IN ({marks})",
                    [q, *ids],
                )
            else:
                # The page's ids, looked up one by one in the index: with the prefix indexes
                # each costs a few reads (without them, FTS5 merged a prefix's words again
                # for every id). A last word longer than the longest prefix index is asked
                # as a whole word first (see _snippet_queries), the prefix only for the rest.
                wanted = set(ids)
                for fq in _snippet_queries(q):
                    if not wanted:
                        break
                    some = sorted(wanted)
                    cur.execute(
                        f"SELECT {cols}, snippet(spaces_post_fts, 1, char(1), char(2), '…', 24) "
                        f"FROM spaces_post_fts f CROSS JOIN spaces_post p ON p.id = f.rowid {joins} "
                        f"WHERE spaces_post_fts MATCH %s AND f.rowid IN ({','.join(['%s'] * len(some))})",
                        [fq, *some],
                    )
                    found = cur.fetchall()
                    rows += found
                    wanted -= {r[0] for r in found}
            by_id = {r[0]: r for r in (cur.fetchall() if connection.vendor == "postgresql" else rows)}
            rows = [(*by_id[i], abs(rank)) for i, rank in ranked if i in by_id]
    hits = [
        Hit(
            post_id=r[0],
            thread_id=r[1],
            thread_title=r[2],
            space_id=r[3],
            space_name=r[4],
            space_slug=r[5],
            author_id=r[6],
            author_name=r[7],
            created_at=r[8],
            snippet_html=_highlight(r[9] or ""),
            rank=float(r[10]),
        )
        for r in rows
    ]
    return SearchPage(hits, total, page, page_size)


# The longest prefix index (migration 0006: prefix='2 3 4 5 6 7 8').
LONGEST_PREFIX = 8


def _snippet_queries(q: str) -> list[str]:
    """The FTS5 queries that mark the words of `q` in a page's snippets, in turn, each for the
    posts the ones before did not match.

    A last word longer than LONGEST_PREFIX has no prefix index: FTS5 then merges the entries
    of every word it begins again for each id looked up (35 ms for a page of "batch
    dashboard" on a million posts, 0.4 ms as a whole word). Asked as a whole word, it
    matches nearly every hit already (the porter stemmer makes "dashboards" "dashboard");
    the few matched only through the prefix ("dashboarding" is stemmed alike too) are asked
    with it after. Their snippets mark the whole word's forms only.
    """
    words = _WORD.findall(q)
    if words and len(words[-1]) > LONGEST_PREFIX:
        return [fts5_query(q, prefix=False), fts5_query(q)]
    return [fts5_query(q)]


def search_index_optimize() -> bool:
    """SQLite: merge the posts' FTS5 index into one segment; False elsewhere (nothing to do).

    Every transaction that indexes posts adds a segment, and FTS5 merges them only partly as
    it goes; every lookup reads each segment. On a million posts loaded in ten transactions
    and then 2,000 more one by one (21 segments), a search's SQL took 1.6 to 1.9 times as
    long as once merged. Run from cron (`convenor spaces optimize-search`) weekly or after a
    large import; it rewrites the whole index (about 15 s for a million posts), and readers
    go on meanwhile (WAL).
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cur:
        cur.execute("INSERT INTO spaces_post_fts(spaces_post_fts) VALUES('optimize')")
    return True


def _fts5_page(
    cur: Any, fq: str, where: str, params: list[Any], limit: int, offset: int, page_size: int
) -> tuple[int, list[tuple[int, float]]]:
    """How many of the newest `limit` matches of `fq` pass `where`, and the page of them at
    `offset`, best first: (post id, bm25) with the title weighing 4 times the body, lower
    being better, ties newest first.

    CROSS JOIN keeps SQLite on the index first, newest match first (FTS5 gives rowid order
    itself, and stops at the limit), looking up each match's post and thread by primary key;
    bm25 is computed only for the rows that pass. The count and the page come from the same
    statement (the matches are kept once, in the CTE), so Python receives the page's rows
    only, not the 1,001 candidates: each row is one more step of the statement, which lets
    go of the GIL and takes it back, and a list of them to build and sort.
    """
    cur.execute(
        f"WITH c AS (SELECT f.rowid AS id, bm25(spaces_post_fts, 4.0, 1.0) AS r FROM spaces_post_fts f "
        f"CROSS JOIN spaces_post p ON p.id = f.rowid CROSS JOIN spaces_thread t ON t.id = p.thread_id "
        f"WHERE spaces_post_fts MATCH %s AND {where} ORDER BY f.rowid DESC LIMIT %s) "
        f"SELECT NULL, COUNT(*) FROM c UNION ALL "
        f"SELECT * FROM (SELECT id, r FROM c ORDER BY r, id DESC LIMIT %s OFFSET %s)",
        [fq, *params, limit, page_size, offset],
    )
    total = 0
    ranked: list[tuple[int, float]] = []
    for i, r in cur.fetchall():
        if i is None:
            total = int(r)
        else:
            ranked.append((int(i), float(r)))
    # The order of the rows of a UNION ALL is SQLite's habit, not a promise: sorted again (20 rows).
    ranked.sort(key=lambda c: (c[1], -c[0]))
    return total, ranked


# PostgreSQL: how many of the newest posts are walked by primary key for a common query.
WINDOW = 50_000


def _pg_candidates(cur: Any, q: str, where: str, params: list[Any], limit: int) -> list[tuple[int, float]]:
    """The newest `limit` matches of `q` that pass `where`, with their ts_rank negated (lower
    is better, like bm25).

    The GIN index finds a rare query's matches at once, but for a common one PostgreSQL
    would read every match from the table (a bitmap heap scan: over a second for tens of
    thousands) to keep the newest; walking the primary key backwards stops at the limit. The
    planner's own choice between the two goes by its estimate of how many posts match, which
    for several words is often ten times too low. So when it expects many matches for several
    words, the newest WINDOW posts are walked (bitmap scans off, in this transaction only),
    and only if they hold too few matches are the older posts asked through the index.
    """
    cand = (
        "WITH cand AS MATERIALIZED (SELECT p.id, p.search FROM spaces_post p "
        "JOIN spaces_thread t ON t.id = p.thread_id "
        "WHERE p.search @@ websearch_to_tsquery('english', %s) AND {where} {window} ORDER BY p.id DESC LIMIT %s) "
        "SELECT cand.id, ts_rank(cand.search, websearch_to_tsquery('english', %s)) FROM cand"
    )
    expected = 0.0
    if len(_WORD.findall(q)) > 1:
        # One word's estimate is good (its own statistics), and the planner then chooses well.
        cur.execute(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM spaces_post p WHERE p.search @@ websearch_to_tsquery('english', %s)",
            [q],
        )
        plan = cur.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        expected = float(plan[0]["Plan"]["Plan Rows"])
    found: list[tuple[int, float]] = []
    if expected >= limit:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM spaces_post")
        bound = int(cur.fetchone()[0]) - WINDOW
        with transaction.atomic():  # SET LOCAL lasts until its end
            cur.execute("SET LOCAL enable_bitmapscan = off")
            cur.execute(cand.format(where=where, window="AND p.id > %s"), [q, *params, bound, limit, q])
            found = [(int(i), -float(r)) for i, r in cur.fetchall()]
            cur.execute("SET LOCAL enable_bitmapscan = on")
        if len(found) < limit:
            cur.execute(cand.format(where=where, window="AND p.id <= %s"), [q, *params, bound, limit - len(found), q])
            found += [(int(i), -float(r)) for i, r in cur.fetchall()]
    else:
        cur.execute(cand.format(where=where, window=""), [q, *params, limit, q])
        found = [(int(i), -float(r)) for i, r in cur.fetchall()]
    return found
