"""A node's lines of any kind (the map page around a person, the API's neighbourhood and line
list, `neighbours`): the same lines as `source = x OR target = x`, found through the per-source
and per-target indexes rather than by walking the whole map (docs/map.md, Performance)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core.testing import World
from convenor.graph import selectors
from convenor.graph.models import Line, LineKind, Map, Node, NodeKind
from convenor.graph.services import build_map
from convenor.people.models import Role
from convenor.people.services import member_create
from convenor.spaces.models import Space


@pytest.fixture
def built(world: World, lounge: Space) -> Map:
    """People who reply, react, message, prospect and post: lines of several kinds, both ways."""
    now = timezone.now() - timedelta(days=2)
    a, c, g = world.admin_member, world.acme_member, world.globex_member
    dan = member_create(name="Dan Ours", email="dan@northwind.example", role=Role.EMPLOYEE, organization=world.ours)
    record(actor=c, verb=Verb.REPLIED, target_member=a, origin_id="n1", occurred_at=now)
    record(actor=g, verb=Verb.REACTED, target_member=c, origin_id="n2", occurred_at=now)
    record(actor=a, verb=Verb.REPLIED, target_member=g, origin_id="n3", occurred_at=now)
    record(actor=dan, verb=Verb.MESSAGED, target_member=g, origin_id="n4", occurred_at=now)
    record(actor=dan, verb=Verb.PROSPECTED, target_member=c, origin_id="n5", occurred_at=now)
    record(actor=c, verb=Verb.POSTED, place_kind="space", place_id=lounge.pk, origin_id="n6", occurred_at=now)
    return build_map(window_days=365).map


def _ids(lines: Iterable[Line]) -> list[int]:
    return sorted(line.pk for line in lines)


def test_a_nodes_lines_are_those_at_either_end(built: Map) -> None:
    lines = Line.objects.filter(map=built)
    assert {str(k) for k in lines.values_list("kind", flat=True)} >= {LineKind.INFLUENCE, LineKind.PROSPECTING}
    for idx in Node.objects.filter(map=built).values_list("idx", flat=True):
        at = lines.filter(Q(source=idx) | Q(target=idx))
        assert _ids(selectors.node_lines(built, idx)) == _ids(at)
        assert selectors.node_lines(built, idx).count() == at.count()
        hidden = selectors.node_lines(built, idx, hide_kinds=[LineKind.PROSPECTING])
        assert _ids(hidden) == _ids(at.exclude(kind=LineKind.PROSPECTING))
        assert _ids(selectors.map_lines(built, kind=LineKind.INFLUENCE, node=idx)) == _ids(
            at.filter(kind=LineKind.INFLUENCE)
        )
        assert [x.pk for x in selectors.map_lines(built, node=idx)] == sorted(x.pk for x in at)


def test_the_lines_around_a_person_are_the_heaviest_at_either_end(built: Map, world: World) -> None:
    carla = Node.objects.get(map=built, kind=NodeKind.MEMBER, ref_id=world.acme_member.pk)
    at = Line.objects.filter(map=built).filter(Q(source=carla.idx) | Q(target=carla.idx))
    payload = selectors.map_payload(built, center=carla, limit=2)
    assert payload["lines"]["w"] == sorted((round(w, 2) for w in at.values_list("weight", flat=True)), reverse=True)[:2]
    whole = selectors.map_payload(built, center=carla)
    assert len(whole["lines"]["s"]) == at.count() > 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_a_nodes_lines_are_found_through_the_source_and_target_indexes(built: Map, world: World) -> None:
    # SQLite keeps no statistics here, so its plan is the same on this small map as on one of
    # a million lines, where walking the map's lines took a second per look-up.
    carla = Node.objects.get(map=built, kind=NodeKind.MEMBER, ref_id=world.acme_member.pk)
    with CaptureQueriesContext(connection) as ctx:
        selectors.map_payload(built, center=carla, hide_kinds=[LineKind.PROSPECTING])
        selectors.map_lines(built, node=carla.idx).count()
        list(selectors.map_lines(built, node=carla.idx)[:10])
        selectors.neighbours([world.acme_member.pk, world.admin_member.pk])
    line_queries = [q["sql"] for q in ctx.captured_queries if "graph_line" in q["sql"]]
    assert len(line_queries) == 4
    for sql in line_queries:
        with connection.cursor() as cur:
            cur.execute("EXPLAIN QUERY PLAN " + sql)
            steps = [str(row[-1]) for row in cur.fetchall() if "graph_line" in str(row[-1])]
        assert len(steps) == 2, (sql, steps)
        assert any("graph_line_source_idx (map_id=? AND source=?)" in s for s in steps), (sql, steps)
        assert any("graph_line_target_idx (map_id=? AND target=?)" in s for s in steps), (sql, steps)
