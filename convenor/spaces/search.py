"""Full-text search over posts: SQLite FTS5 by default, PostgreSQL full text on PostgreSQL.

Both index a post's body and its thread's title (migration 0002 builds the index and keeps
it in step with triggers or a generated column). Results are restricted in SQL to the
spaces the viewer may read, ranked (bm25 / ts_rank), highlighted and paginated.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils.html import escape

from convenor.core import access
from convenor.core.access import AnyUser

_OPEN, _CLOSE = "\x01", "\x02"
# Counting every match of a common word costs as much as ranking them: stop at this many,
# and the page says "1000+ results" (and offers the pages those fill).
COUNT_CAP = 1000
# How many of the best matches over the whole index are ranked before the viewer's filter.
CANDIDATES = 200
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
    """Escape the snippet's text, then turn the markers into <mark> tags."""
    return escape(raw).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def fts5_query(text: str) -> str:
    """User words to an FTS5 query: every word must appear; the last one may be a prefix.

    Quoting every word means FTS5 operators typed by the user (NEAR, OR, quotes, columns)
    are taken as words, so no input can make the MATCH expression invalid.
    """
    words = _WORD.findall(text)[:20]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
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
    query when the caller already has them; it must come from access.visible_spaces(viewer).
    """
    page = max(1, page)
    if readable is None:
        readable = list(access.visible_spaces(viewer).order_by("pk").values_list("pk", "version"))
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
    if connection.vendor == "postgresql":
        # Rank every match by id alone, then build the headline (the costly part) only for
        # the page's rows. The count stops at COUNT_CAP.
        matches = (
            f"FROM spaces_post p JOIN spaces_thread t ON t.id = p.thread_id, "
            f"websearch_to_tsquery('english', %s) query WHERE p.search @@ query AND {where}"
        )
        sql = (
            f"WITH top AS (SELECT p.id, ts_rank(p.search, query) AS rank {matches} "
            f"ORDER BY rank DESC, p.id DESC LIMIT %s OFFSET %s) "
            f"SELECT {cols}, ts_headline('english', p.text, websearch_to_tsquery('english', %s), "
            f"'StartSel=\x01,StopSel=\x02,MaxWords=35,MinWords=15,MaxFragments=2'), top.rank "
            f"FROM top JOIN spaces_post p ON p.id = top.id {joins} ORDER BY top.rank DESC, p.id DESC"
        )
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM (SELECT 1 {matches} LIMIT {COUNT_CAP + 1}) capped", [q, *params])
            total = int(cur.fetchone()[0])
            cur.execute(sql, [q, *params, page_size, offset, q])
            rows = cur.fetchall()
    else:
        fq = fts5_query(q)
        if not fq:
            return SearchPage([], 0, page, page_size)
        matches = (
            f"FROM spaces_post_fts f JOIN spaces_post p ON p.id = f.rowid JOIN spaces_thread t ON t.id = p.thread_id "
            f"WHERE spaces_post_fts MATCH %s AND {where}"
        )
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM (SELECT 1 {matches} LIMIT {COUNT_CAP + 1})", [fq, *params])
            total = int(cur.fetchone()[0])
            ranked = _rank_fts5(cur, fq, matches, where, params, page_size, offset)
            rows = []
            if ranked:
                ids = [r[0] for r in ranked]
                cur.execute(
                    f"SELECT {cols}, snippet(spaces_post_fts, 1, char(1), char(2), '…', 24) "
                    f"FROM spaces_post_fts f JOIN spaces_post p ON p.id = f.rowid {joins} "
                    f"WHERE spaces_post_fts MATCH %s AND f.rowid IN ({','.join(['%s'] * len(ids))})",
                    [fq, *ids],
                )
                by_id = {r[0]: r for r in cur.fetchall()}
                rows = [(*by_id[i], rank) for i, rank in ranked if i in by_id]
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


def _rank_fts5(
    cur: Any, fq: str, matches: str, where: str, params: list[Any], limit: int, offset: int
) -> list[tuple[int, float]]:
    """The ids and bm25 ranks of one page of matches the viewer may read, best first.

    First FTS5 alone ranks the whole index (fast: no join per match) and keeps the best
    ``CANDIDATES`` (at least); those the viewer may read, in that order, are exactly the top
    of the viewer's own ranking as long as there are enough of them for the page (a better
    match they may read would be among the candidates). Otherwise, or for deep pages, the
    ranking is done with the joins over every match.
    """
    need = offset + limit
    n = max(CANDIDATES, need * 4)
    order = "ORDER BY score, f.rowid DESC"
    cur.execute(
        f"SELECT f.rowid, bm25(spaces_post_fts, 4.0, 1.0) AS score FROM spaces_post_fts f "
        f"WHERE spaces_post_fts MATCH %s {order} LIMIT %s",
        [fq, n],
    )
    candidates = cur.fetchall()
    if candidates:
        ids = [c[0] for c in candidates]
        cur.execute(
            # CROSS JOIN keeps SQLite on the candidates first (not every thread of every space).
            f"SELECT p.id FROM spaces_post p CROSS JOIN spaces_thread t ON t.id = p.thread_id "
            f"WHERE p.id IN ({','.join(['%s'] * len(ids))}) AND {where}",
            [*ids, *params],
        )
        readable = {r[0] for r in cur.fetchall()}
        mine = [(int(i), float(r)) for i, r in candidates if i in readable]
        if len(mine) >= need or len(candidates) < n:
            return mine[offset:need]
    cur.execute(
        f"SELECT f.rowid, bm25(spaces_post_fts, 4.0, 1.0) AS score {matches} {order} LIMIT %s OFFSET %s",
        [fq, *params, limit, offset],
    )
    return [(int(i), float(r)) for i, r in cur.fetchall()]
