"""Full-text search over posts: SQLite FTS5 by default, PostgreSQL full text on PostgreSQL.

Both index a post's body and its thread's title (migration 0002 builds the index and keeps
it in step with triggers or a generated column). Results are restricted in SQL to the
spaces the viewer may read, ranked (bm25 / ts_rank), highlighted and paginated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.html import escape

from convenor.core import access
from convenor.core.access import AnyUser

_OPEN, _CLOSE = "\x01", "\x02"
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
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


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
) -> SearchPage:
    """Posts matching `q` in spaces the viewer may read, best first."""
    page = max(1, page)
    space_ids = list(access.visible_spaces(viewer).values_list("pk", flat=True))
    if space_id is not None:
        space_ids = [s for s in space_ids if s == space_id]
    if not q.strip() or not space_ids:
        return SearchPage([], 0, page, page_size)
    filters = [f"t.space_id IN ({','.join(['%s'] * len(space_ids))})"]
    params: list[Any] = list(space_ids)
    if author_id is not None:
        filters.append("p.author_id = %s")
        params.append(author_id)
    where = " AND ".join(filters)
    joins = (
        "JOIN spaces_thread t ON t.id = p.thread_id "
        "JOIN spaces_space s ON s.id = t.space_id "
        "JOIN people_member m ON m.id = p.author_id"
    )
    cols = "p.id, t.id, t.title, s.id, s.name, s.slug, m.id, m.name, p.created_at"
    if connection.vendor == "postgresql":
        match = "p.search @@ query"
        count_sql = (
            f"SELECT count(*) FROM spaces_post p {joins}, websearch_to_tsquery('english', %s) query "
            f"WHERE {match} AND {where}"
        )
        count_params: list[Any] = [q, *params]
        sql = (
            f"SELECT {cols}, ts_headline('english', p.text, query, "
            f"'StartSel=\x01,StopSel=\x02,MaxWords=35,MinWords=15,MaxFragments=2'), "
            f"ts_rank(p.search, query) AS rank "
            f"FROM spaces_post p {joins}, websearch_to_tsquery('english', %s) query "
            f"WHERE {match} AND {where} ORDER BY rank DESC, p.id DESC LIMIT %s OFFSET %s"
        )
        sql_params: list[Any] = [q, *params, page_size, (page - 1) * page_size]
    else:
        fq = fts5_query(q)
        if not fq:
            return SearchPage([], 0, page, page_size)
        count_sql = (
            f"SELECT count(*) FROM spaces_post_fts f JOIN spaces_post p ON p.id = f.rowid {joins} "
            f"WHERE spaces_post_fts MATCH %s AND {where}"
        )
        count_params = [fq, *params]
        sql = (
            f"SELECT {cols}, snippet(spaces_post_fts, 1, char(1), char(2), '…', 24), "
            f"bm25(spaces_post_fts, 4.0, 1.0) AS rank "
            f"FROM spaces_post_fts f JOIN spaces_post p ON p.id = f.rowid {joins} "
            f"WHERE spaces_post_fts MATCH %s AND {where} ORDER BY rank, p.id DESC LIMIT %s OFFSET %s"
        )
        sql_params = [fq, *params, page_size, (page - 1) * page_size]
    with connection.cursor() as cur:
        cur.execute(count_sql, count_params)
        total = int(cur.fetchone()[0])
        cur.execute(sql, sql_params)
        rows = cur.fetchall()
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
