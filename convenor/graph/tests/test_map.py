"""Building the map from real rows, snapshots and their comparison, exports read back by
networkx and igraph, the command line, and the bad input of the issue."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np
import pytest
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.cli import main
from convenor.core.errors import ApplicationError
from convenor.core.testing import World
from convenor.graph import analytics, build, selectors
from convenor.graph.compare import compare, map_by_name
from convenor.graph.exports import export_map
from convenor.graph.models import Line, LineKind, Map, Node, NodeKind
from convenor.graph.services import build_map, snapshot_create
from convenor.people.models import Member, Role
from convenor.people.services import member_create
from convenor.spaces.models import Space


@pytest.fixture
def busy(world: World, lounge: Space) -> dict[str, Member]:
    """A year ago Carla and Gus only knew Ada; this year Carla and Gus talk, Gus posts in the lounge,
    Dan prospects Carla, Carla reviews us on g2, and Ada replies to herself."""
    now = timezone.now()
    dan = member_create(name="Dan Ours", email="dan@northwind.example", role=Role.EMPLOYEE, organization=world.ours)
    a, c, g = world.admin_member, world.acme_member, world.globex_member
    old = now - timedelta(days=500)
    record(actor=c, verb=Verb.REPLIED, target_member=a, origin_id="o1", occurred_at=old)
    record(actor=g, verb=Verb.REPLIED, target_member=a, origin_id="o2", occurred_at=old)
    recent = now - timedelta(days=10)
    record(actor=c, verb=Verb.REPLIED, target_member=g, origin_id="n1", occurred_at=recent)
    record(actor=g, verb=Verb.QUOTED, target_member=c, origin_id="n2", occurred_at=recent)
    record(actor=g, verb=Verb.POSTED, place_kind="space", place_id=lounge.pk, origin_id="n3", occurred_at=recent)
    record(actor=dan, verb=Verb.PROSPECTED, target_member=c, origin_id="n4", occurred_at=recent)
    record(actor=c, verb=Verb.REVIEWED, source="g2", origin_id="r1", target_org=world.ours, occurred_at=recent)
    record(actor=a, verb=Verb.REPLIED, target_member=a, origin_id="self", occurred_at=recent)
    return {"ada": a, "carla": c, "gus": g, "dan": dan}


def _line(m: Map, kind: str, a: tuple[str, int], b: tuple[str, int]) -> Line | None:
    na = Node.objects.get(map=m, kind=a[0], ref_id=a[1]).idx
    nb = Node.objects.get(map=m, kind=b[0], ref_id=b[1]).idx
    return Line.objects.filter(map=m, kind=kind, source__in=[na, nb], target__in=[na, nb]).first()


def test_the_five_kinds_of_line_come_from_the_log_relationships_and_affiliations(
    busy: dict[str, Member], world: World, lounge: Space
) -> None:
    result = build_map(window_days=365)
    m = result.map
    c, g, dan = busy["carla"].pk, busy["gus"].pk, busy["dan"].pk
    assert any("self-loops" in w for w in result.warnings)
    assert result.lines_by_kind == {k: Line.objects.filter(map=m, kind=k).count() for k in LineKind.values}
    # influence, both ways here, directed
    infl = Line.objects.filter(map=m, kind=LineKind.INFLUENCE)
    assert infl.count() == 2 and all(x.directed for x in infl)
    # participation: Gus in the lounge
    part = _line(m, LineKind.PARTICIPATION, ("member", g), ("space", lounge.pk))
    assert part is not None and part.basis_names == ["posted"] and not part.directed
    # prospecting: from Dan to Carla
    pro = _line(m, LineKind.PROSPECTING, ("member", dan), ("member", c))
    assert pro is not None and pro.source == Node.objects.get(map=m, kind="member", ref_id=dan).idx
    # information channel: Carla and the g2 conduit
    conduit = Node.objects.get(map=m, kind=NodeKind.CONDUIT)
    assert conduit.label == "g2" and conduit.ref_id == build.conduit_ref("g2")
    assert Line.objects.filter(map=m, kind=LineKind.CHANNEL).count() == 1
    # connection: declared (Acme competes with Globex) and affiliations (Carla at Acme)
    rel = _line(m, LineKind.CONNECTION, ("org", world.acme.pk), ("org", world.globex.pk))
    assert rel is not None and rel.basis_names == ["declared:competes_with"]
    aff = _line(m, LineKind.CONNECTION, ("member", c), ("org", world.acme.pk))
    assert aff is not None and "affiliated" in aff.basis_names
    # no self-loop stored
    assert not Line.objects.filter(map=m, source=models_f_target()).exists()
    # organisations' ties: Carla (Acme) and Gus (Globex) talk across organisations
    acme = Node.objects.get(map=m, kind="org", ref_id=world.acme.pk)
    assert acme.external_ties >= 1 and acme.internal_ties == 0
    assert acme.pagerank == pytest.approx(
        Node.objects.get(map=m, kind="member", ref_id=c).pagerank
    )  # Carla is Acme's only person on the map
    gus = Node.objects.get(map=m, kind="member", ref_id=g)
    assert gus.deg_influence == 2 and gus.deg_participation == 1 and gus.reach2 >= 1


def models_f_target() -> Any:
    from django.db.models import F

    return F("target")


def test_verb_weights_come_from_the_setting_and_bad_ones_are_named(busy: dict[str, Member], settings: object) -> None:
    settings.MAP_WEIGHTS = "replied=10,quoted=0"  # type: ignore[attr-defined]
    m = build_map().map
    infl = list(Line.objects.filter(map=m, kind=LineKind.INFLUENCE))
    assert [x.weight for x in infl] == [10.0]  # the quote weighs nothing and draws no line
    settings.MAP_WEIGHTS = "replied=lots"  # type: ignore[attr-defined]
    with pytest.raises(ApplicationError, match="replied=lots"):
        build_map()
    settings.MAP_WEIGHTS = "shouted=2"  # type: ignore[attr-defined]
    with pytest.raises(ApplicationError, match="shouted=2"):
        build_map()


def test_a_window_with_nothing_in_it_is_refused_and_keeps_the_old_map(world: World) -> None:
    from convenor.people.models import Affiliation, Relationship

    Relationship.objects.all().delete()
    Affiliation.objects.all().delete()
    with pytest.raises(ApplicationError, match="Nothing to map"):
        build_map()
    assert not Map.objects.exists()


def test_snapshots_compare_and_refuse_an_existing_label(busy: dict[str, Member], world: World) -> None:
    now = timezone.now()
    before = snapshot_create(label="last-year", start=now - timedelta(days=730), end=now - timedelta(days=365))
    build_map()
    with pytest.raises(ApplicationError, match="exists already"):
        snapshot_create(label="last-year")
    with pytest.raises(ApplicationError, match="current map"):
        snapshot_create(label="current")
    assert before.map.label == "last-year"
    result = compare(map_by_name("last-year"), map_by_name("current"))
    assert result["lines"]["influence"]["lost"] == 2  # Carla->Ada and Gus->Ada are gone
    assert result["lines"]["influence"]["gained"] == 2
    assert result["lines"]["prospecting"] == {"before": 0, "after": 1, "gained": 1, "lost": 0}
    falling = [p["id"] for p in result["people_falling"]]
    assert busy["ada"].pk in falling
    bridged = {frozenset(o["id"] for o in b["organizations"]) for b in result["newly_bridged_organizations"]}
    assert frozenset({world.acme.pk, world.globex.pk}) in bridged
    json.dumps(result)  # JSON-ready
    with pytest.raises(ApplicationError, match="no snapshot labelled"):
        map_by_name("nope")


def test_exports_read_back_with_networkx_and_igraph(busy: dict[str, Member], world: World, tmp_path: Path) -> None:
    m = build_map().map
    n_nodes, n_lines = m.node_count, m.line_count

    export_map(m, fmt="graphml", path=tmp_path / "map.graphml")
    g = nx.read_graphml(tmp_path / "map.graphml")
    assert g.number_of_nodes() == n_nodes and g.number_of_edges() == n_lines
    carla = next(d for _, d in g.nodes(data=True) if d.get("email") == "carla@acme.example")
    assert carla["label"] == "Carla Acme" and carla["organization"] == "Acme" and carla["role"] == "customer"
    assert {"community", "pagerank", "brokerage"} <= set(carla)
    assert {d["kind"] for _, _, d in g.edges(data=True)} == set(LineKind.values) - set()
    ig_g = ig.Graph.Read_GraphML(str(tmp_path / "map.graphml"))
    assert ig_g.vcount() == n_nodes and ig_g.ecount() == n_lines
    assert set(ig_g.es["kind"]) == {str(k) for k in LineKind.values}

    export_map(m, fmt="gexf", path=tmp_path / "map.gexf")
    gx = nx.read_gexf(tmp_path / "map.gexf")
    assert gx.number_of_nodes() == n_nodes and gx.number_of_edges() == n_lines
    assert all("kind" in d for _, _, d in gx.edges(data=True))
    assert any(d.get("email") == "carla@acme.example" for _, d in gx.nodes(data=True))
    assert ig.Graph.from_networkx(gx).ecount() == n_lines

    export_map(m, fmt="csv", path=tmp_path / "map.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "map.csv").read_text())))
    assert len(rows) == n_lines and {r["kind"] for r in rows} == set(LineKind.values)

    export_map(m, fmt="svg", path=tmp_path / "map.svg")
    svg = (tmp_path / "map.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<circle") == n_nodes
    export_map(m, fmt="png", path=tmp_path / "map.png")
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_export_path_that_cannot_be_written_is_a_clear_error(busy: dict[str, Member], tmp_path: Path) -> None:
    m = build_map().map
    with pytest.raises(ApplicationError, match="does not exist"):
        export_map(m, fmt="csv", path=tmp_path / "missing" / "map.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if os.access(locked, os.W_OK):  # running as root: permissions do not stop us
            pytest.skip("cannot make a folder unwritable here")
        with pytest.raises(ApplicationError, match="not writable"):
            export_map(m, fmt="csv", path=locked / "map.csv")
    finally:
        locked.chmod(0o700)
    with pytest.raises(ApplicationError, match="Unknown export format"):
        export_map(m, fmt="pdf", path=tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == [locked]


def test_the_command_line(busy: dict[str, Member], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "build", "--window", "365"]) == 0
    out = capsys.readouterr()
    assert "Built current map" in out.out and "self-loops" in out.out
    assert "map build" in out.err  # progress on stderr
    today = timezone.now().date()
    a_year_ago = today - timedelta(days=365)
    assert main(["map", "snapshot", "--label", "then", "--from", str(today - timedelta(days=800)),
                 "--to", str(a_year_ago)]) == 0  # fmt: skip
    with pytest.raises(SystemExit):
        main(["map", "snapshot", "--label", "then"])
    assert "exists already" in capsys.readouterr().err
    assert main(["map", "compare", "then", "current", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lines"]["influence"]["gained"] == 2
    assert main(["map", "compare", "then", "current"]) == 0
    assert "Lines by kind" in capsys.readouterr().out
    assert main(["map", "export", "--format", "graphml", "--out", str(tmp_path / "m.graphml"),
                 "--snapshot", "then"]) == 0  # fmt: skip
    assert nx.read_graphml(tmp_path / "m.graphml").number_of_edges() == Map.objects.get(label="then").line_count
    with pytest.raises(SystemExit):
        main(["map", "export", "--format", "csv", "--out", "/nonexistent-folder/x.csv"])
    assert "does not exist" in capsys.readouterr().err
    assert main(["map", "snapshots"]) == 0
    assert "then" in capsys.readouterr().out
    assert main(["map", "snapshot", "--label", "then", "--delete"]) == 0
    assert not Map.objects.filter(label="then").exists()


def test_hubs_get_sampled_brokerage_and_bounded_reach(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from convenor.activity.models import Activity
    from convenor.graph import analytics

    hub = world.admin_member
    people = [Member(name=f"P{i}", role=Role.CUSTOMER) for i in range(60)]
    Member.objects.bulk_create(people)
    now = timezone.now()
    Activity.objects.bulk_create(
        Activity(actor=p, verb=Verb.REPLIED, target_member=hub, origin_id=f"h{i}", occurred_at=now)
        for i, p in enumerate(people)
    )
    monkeypatch.setattr(analytics, "BETWEENNESS_EXACT_NODES", 10)
    monkeypatch.setattr(analytics, "BETWEENNESS_SAMPLES", 5)
    monkeypatch.setattr(analytics, "REACH_EXACT_WORK", 10)
    result = build_map()
    assert any("sample of sources" in w for w in result.warnings)
    assert any("upper bound" in w for w in result.warnings)
    scores = selectors.node_scores()
    assert scores[hub.pk].brokerage == 1.0
    assert scores[hub.pk].degree == 60
    leaf = Node.objects.get(map=result.map, kind="member", ref_id=people[0].pk)
    assert leaf.reach2 == 60  # the hub and its 59 other people


@pytest.mark.parametrize("seed", range(5))
def test_the_maps_pagerank_is_igraphs(seed: int) -> None:
    """analytics.walk_ranks gives igraph's weighted PageRank: nodes with no way out, nodes with
    no line at all, heavy and light lines."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    m = int(rng.integers(1, 4 * n))
    frm, to = rng.integers(0, n, m), (rng.pareto(1.5, m) * 10).astype(np.int64) % n
    pairs = np.unique(frm[frm != to] * n + to[frm != to])
    frm, to = pairs // n, pairs % n
    weight = rng.random(len(frm)) * 5 + 0.01
    g = ig.Graph(n=n, edges=list(zip(frm.tolist(), to.tolist(), strict=True)), directed=True)
    want = np.asarray(g.pagerank(weights=weight.tolist(), directed=True))
    got = analytics.walk_ranks(n, frm, to, weight)
    assert np.allclose(got, want, rtol=1e-8, atol=1e-12)
    assert abs(got.sum() - 1.0) < 1e-12
