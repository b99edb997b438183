"""The database serves the outside posts list from an index, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.models import QuerySet

from convenor.core.testing import World
from convenor.listening import selectors, services
from convenor.listening.models import OutsidePost

from .conftest import SAMPLES

pytestmark = pytest.mark.django_db


def _plan(qs: QuerySet[OutsidePost]) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


@pytest.fixture
def planner_prefers_indexes() -> Iterator[None]:
    """On PostgreSQL, a handful of rows is read fastest by a scan and a sort: make those
    dear, so the plan shows whether an index can give the order at all."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")


def test_a_sources_posts_newest_first_are_read_from_an_index_without_a_sort(
    world: World, planner_prefers_indexes: None
) -> None:
    run = services.import_file(importer="rss", path=SAMPLES / "blog.rss")
    assert run.source is not None and run.created > 0
    # The list page, the API and a source's page: one source's posts, newest first, a page.
    plan = _plan(selectors.outside_post_list(source_id=run.source.pk)[:50])
    assert "listening_post_source_idx" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
