"""The map's contract with other apps (hot groups): build_map() and the four selectors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core.errors import ApplicationError
from convenor.core.testing import World
from convenor.graph import selectors
from convenor.graph.models import Line, LineKind, Map, Node
from convenor.graph.services import build_map
from convenor.people.models import Member, Role
from convenor.people.services import member_create


@pytest.fixture
def talk(world: World) -> dict[str, Member]:
    """Carla replies to Ada twice, Gus reacts to Carla, Olive stays silent; Dan (ours) messages Gus."""
    dan = member_create(name="Dan Ours", email="dan@northwind.example", role=Role.EMPLOYEE, organization=world.ours)
    now = timezone.now()
    a, c, g = world.admin_member, world.acme_member, world.globex_member
    record(actor=c, verb=Verb.REPLIED, target_member=a, origin_id="t1", occurred_at=now - timedelta(days=3))
    record(actor=c, verb=Verb.REPLIED, target_member=a, origin_id="t2", occurred_at=now - timedelta(days=2))
    record(actor=g, verb=Verb.REACTED, target_member=c, origin_id="t3", occurred_at=now - timedelta(days=1))
    record(actor=dan, verb=Verb.MESSAGED, target_member=g, origin_id="t4", occurred_at=now - timedelta(days=1))
    # Long ago: outside the default window.
    record(actor=world.outsider_member, verb=Verb.REPLIED, target_member=a, origin_id="t5",
           occurred_at=now - timedelta(days=800))  # fmt: skip
    return {"ada": a, "carla": c, "gus": g, "dan": dan, "olive": world.outsider_member}


def test_selectors_before_any_build_are_empty(world: World) -> None:
    assert selectors.map_built_at() is None
    assert selectors.node_scores() == {}
    assert selectors.connected_pairs([world.admin_member.pk, world.acme_member.pk]) == set()
    assert selectors.neighbours([world.admin_member.pk]) == {}


def test_build_map_stores_scores_the_selectors_read(talk: dict[str, Member]) -> None:
    result = build_map(window_days=365)
    assert result.lines > 0 and result.nodes > 0
    assert selectors.map_built_at() == result.map.built_at
    ada, carla, gus, dan, olive = (talk[k] for k in ("ada", "carla", "gus", "dan", "olive"))

    scores = selectors.node_scores()
    assert olive.pk not in scores  # her only reply is outside the window, and she has no affiliation
    assert {ada.pk, carla.pk, gus.pk, dan.pk} <= set(scores)
    assert abs(sum(s.pagerank for s in scores.values()) - 1.0) < 1e-9
    # Ada is replied to by Carla: more influential than Carla, who is only reacted to once.
    assert scores[ada.pk].pagerank > scores[dan.pk].pagerank
    assert scores[ada.pk].degree == 1 and scores[gus.pk].degree == 2
    assert all(0.0 <= s.brokerage <= 1.0 for s in scores.values())
    assert all(s.community is not None for s in scores.values())

    subset = selectors.node_scores([ada.pk, olive.pk])
    assert set(subset) == {ada.pk}

    everyone = [ada.pk, carla.pk, gus.pk, dan.pk, olive.pk]
    pairs = selectors.connected_pairs(everyone)
    expected = {(ada.pk, carla.pk), (carla.pk, gus.pk), (dan.pk, gus.pk)}
    assert pairs == {(min(a, b), max(a, b)) for a, b in expected}
    assert selectors.connected_pairs([ada.pk, gus.pk]) == set()

    near = selectors.neighbours([carla.pk, gus.pk, olive.pk])
    assert near == {carla.pk: {ada.pk, gus.pk}, gus.pk: {carla.pk, dan.pk}}

    # The influence line runs from the one replied to towards the one who replied.
    ada_idx = Node.objects.get(map=result.map, kind="member", ref_id=ada.pk).idx
    carla_idx = Node.objects.get(map=result.map, kind="member", ref_id=carla.pk).idx
    line = Line.objects.get(map=result.map, kind=LineKind.INFLUENCE, source=ada_idx, target=carla_idx)
    assert line.evidence == 2 and line.directed and line.basis_names == ["replied"]
    assert line.weight == pytest.approx(6.0)


def test_rebuilding_replaces_the_current_map(talk: dict[str, Member]) -> None:
    first = build_map()
    second = build_map(window_days=1000)
    assert Map.objects.filter(label="").count() == 1
    assert not Node.objects.filter(map_id=first.map.pk).exists()
    assert talk["olive"].pk in selectors.node_scores()  # the wider window takes in her old reply
    assert selectors.map_built_at() == second.map.built_at


def test_build_map_reports_progress(talk: dict[str, Member]) -> None:
    seen: list[tuple[int, int]] = []
    build_map(progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_build_map_refuses_a_bad_window(world: World) -> None:
    with pytest.raises(ApplicationError, match="between 1 and"):
        build_map(window_days=0)


def test_build_map_on_an_empty_community_says_so(db: None) -> None:
    with pytest.raises(ApplicationError, match="community is empty"):
        build_map()
