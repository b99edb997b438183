"""The daily update: after random additions, slides of the window and changed declarations, the
updated map holds exactly the lines a full build of the same window gives; it is idempotent,
leaves the map as it was when stopped or overtaken, and refuses a changed configuration."""

from __future__ import annotations

import contextlib
import gzip
import json
import random
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from convenor.activity.models import Activity, Verb
from convenor.activity.services import record
from convenor.api.tests.conftest import Api, api_as
from convenor.cli import main
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.testing import World
from convenor.graph import build, selectors, update
from convenor.graph.models import DeclaredLine, Line, Map, Node
from convenor.graph.services import build_map, snapshot_create, update_map
from convenor.people.models import Affiliation, Member, Relationship, RelationshipKind, Role
from convenor.people.services import (
    affiliation_add,
    affiliation_end,
    member_create,
    relationship_create,
    relationship_update,
)
from convenor.spaces.models import Space

LineKey = tuple[str, tuple[str, int], tuple[str, int]]

PERSON = [Verb.REPLIED, Verb.QUOTED, Verb.REACTED, Verb.MENTIONED, Verb.MESSAGED, Verb.MET, Verb.PROSPECTED]
PLACE = [Verb.POSTED, Verb.REPLIED, Verb.JOINED_SPACE, Verb.ATTENDED, Verb.VOTED, Verb.JOINED_GROUP]
ORG = [Verb.REVIEWED, Verb.CONTACTED, Verb.PROSPECTED, Verb.LEFT_SPACE]


def lines_of(m: Map) -> dict[LineKey, tuple[Any, ...]]:
    """A map's lines by their ends' (kind, id), with every figure; checks positions are 0..n-1
    and undirected lines keep the smaller position first."""
    nodes = {i: (k, r) for i, k, r in Node.objects.filter(map=m).values_list("idx", "kind", "ref_id")}
    assert sorted(nodes) == list(range(len(nodes))) == list(range(m.node_count))
    out: dict[LineKey, tuple[Any, ...]] = {}
    rows = Line.objects.filter(map=m).values_list(
        "kind", "source", "target", "directed", "weight", "evidence", "first_seen", "last_seen", "basis"
    )
    for kind, s, t, directed, weight, evidence, first, last, basis in rows:
        a, b = nodes[s], nodes[t]
        if not directed:
            assert s < t
            a, b = min(a, b), max(a, b)
        out[(kind, a, b)] = (round(weight, 6), evidence, first, last, basis)
    used = {e for k in out for e in k[1:]}
    assert used == set(nodes.values()), "every node has a line"
    assert len(out) == m.line_count
    return out


def assert_cache_matches(m: Map) -> None:
    cached = update._read_cache(m)
    assert cached is not None and cached.nodes is not None, "the update kept its lines and nodes beside the database"
    from_db = update._read_lines(m, np.asarray(update._read_nodes(m)["node_keys"], dtype=np.int64))

    def table(lines: update.Keyed, row: Any, src: Any, dst: Any) -> list[tuple[int, ...]]:
        cols = [row, src, dst, *(getattr(lines, f) for f in ("kind", "a", "b", "evidence", "first", "last", "basis"))]
        return sorted(zip(*(c.tolist() for c in cols), np.round(lines.weight, 6).tolist(), strict=True))

    assert table(cached.lines, cached.row, cached.src, cached.dst) == table(*from_db)
    # The nodes' figures as the database has them, exactly.
    nodes = update._read_nodes(m)
    for field in update.NODE_FIELDS:
        assert cached.nodes[field].tolist() == nodes[field].tolist(), field
    # And the declared part, row ids included.
    assert cached.declared is not None
    decl, decl_db = (update.Keyed.take(d, np.argsort(r)) for d, r in (cached.declared, update._read_declared(m)))
    assert np.sort(cached.declared[1]).tolist() == np.sort(update._read_declared(m)[1]).tolist()
    assert all(
        getattr(decl, f).tolist() == getattr(decl_db, f).tolist() for f in ("kind", "a", "b", "evidence", "basis")
    )


class Community:
    """A small community that acts at random: people in three organisations, a space, groups,
    conduits, declared relationships."""

    def __init__(self, world: World, space: Space, rng: random.Random) -> None:
        self.rng = rng
        self.orgs = [world.ours, world.acme, world.globex]
        self.people: list[Member] = [world.admin_member, world.acme_member, world.globex_member]
        for i in range(9):
            self.people.append(
                member_create(
                    name=f"Person {i}",
                    email=f"p{i}@{['northwind', 'acme', 'globex'][i % 3]}.example",
                    role=Role.EMPLOYEE if i % 3 == 0 else Role.CUSTOMER,
                    organization=self.orgs[i % 3],
                )
            )
        self.space = space
        self.n = 0

    def act(self, count: int, *, around: datetime, spread_days: int = 420, ahead_days: int = 3) -> None:
        rng = self.rng
        for _ in range(count):
            self.n += 1
            actor = rng.choice(self.people)
            when = around - timedelta(seconds=rng.randint(-ahead_days * 86_400, spread_days * 86_400))
            kind = rng.random()
            origin = f"act-{self.n}"
            if kind < 0.45:
                other = rng.choice(self.people)  # now and then oneself: a self-loop
                record(actor=actor, verb=rng.choice(PERSON), target_member=other, origin_id=origin, occurred_at=when)
            elif kind < 0.75:
                if rng.random() < 0.5:
                    place_kind, place_id = "space", self.space.pk
                else:
                    place_kind, place_id = "group", rng.randint(1, 3)
                record(actor=actor, verb=rng.choice(PLACE), place_kind=place_kind, place_id=place_id,
                       origin_id=origin, occurred_at=when)  # fmt: skip
            elif kind < 0.9:
                record(actor=actor, verb=rng.choice(ORG), target_org=rng.choice(self.orgs), origin_id=origin,
                       occurred_at=when)  # fmt: skip
            else:
                record(actor=actor, verb=Verb.POSTED, source=rng.choice(["slack", "g2"]), origin_id=origin,
                       occurred_at=when)  # fmt: skip

    def declare(self, on: date) -> None:
        """Change the declarations a little: a new relationship, a stronger or ended one, an
        affiliation ended or added."""
        rng = self.rng
        choice = rng.random()
        rels = list(Relationship.objects.order_by("pk"))
        if choice < 0.3 or not rels:
            a, b = rng.sample(self.people, 2)
            kind = rng.choice([RelationshipKind.KNOWS, RelationshipKind.WORKS_WITH, RelationshipKind.ADVISES])
            strength = rng.choice([0.0, 0.5, 1.0, 2.0])
            with contextlib.suppress(ApplicationError):  # that line may be declared already
                relationship_create(kind=kind, source=a, target=b, strength=strength, started_on=on)
        elif choice < 0.55:
            relationship_update(relationship=rng.choice(rels), strength=rng.choice([0.5, 1.5, 3.0]))
        elif choice < 0.7:
            rel = rng.choice(rels)
            relationship_update(relationship=rel, ended_on=max(on, rel.started_on or on))
        elif choice < 0.85:
            aff = Affiliation.objects.filter(ended_on__isnull=True).order_by("pk").first()
            if aff is not None:
                affiliation_end(affiliation=aff, ended_on=on)
        else:
            person = rng.choice(self.people)
            org = rng.choice(self.orgs)
            if not Affiliation.objects.filter(member=person, organization=org, ended_on__isnull=True).exists():
                affiliation_add(member=person, organization=org, started_on=on)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_update_gives_the_lines_of_a_full_build(world: World, lounge: Space, seed: int) -> None:
    rng = random.Random(seed)
    town = Community(world, lounge, rng)
    t = timezone.now() - timedelta(days=60)
    town.act(150, around=t)
    build_map(window_days=365, now=t)
    assert_cache_matches(Map.objects.get(label=""))
    for step in range(4):
        # A day or a few later (now and then the same moment), some activity, now and then
        # dated back, forward, or into the part of the window that slid out.
        t += timedelta(days=rng.choice([0, 1, 1, 2, 7]), seconds=rng.randint(0, 86_399))
        town.act(rng.randint(0, 25), around=t, spread_days=rng.choice([2, 30, 400]))
        if rng.random() < 0.6:
            town.declare((t - timedelta(days=rng.randint(0, 400))).date())
        result = update_map(now=t)
        updated = Map.objects.get(label="")
        assert result.updated and updated.updated_at is not None and updated.window_to == t
        got = lines_of(updated)
        full = snapshot_create(label=f"check-{step}", start=t - timedelta(days=365), end=t).map
        want = lines_of(full)
        missing, extra = want.keys() - got.keys(), got.keys() - want.keys()
        assert not missing and not extra, (step, sorted(missing)[:5], sorted(extra)[:5])
        wrong = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
        assert not wrong, (step, list(wrong.items())[:5])
        assert updated.node_count == full.node_count and updated.line_count == full.line_count
        # Scores are taken from the updated lines: degrees and influence as a full build has them.
        # (Organisations and labels of people already on the map are refreshed by full builds only.)
        fields = ("kind", "ref_id", "pagerank", "degree", "deg_influence", "deg_participation", "reach2", "label",
                  "role")  # fmt: skip
        a = {(k, r): (round(p, 9), *rest) for k, r, p, *rest in Node.objects.filter(map=updated).values_list(*fields)}
        b = {(k, r): (round(p, 9), *rest) for k, r, p, *rest in Node.objects.filter(map=full).values_list(*fields)}
        assert a == b
        # The lines kept beside the database for the next update are the stored ones, row ids included.
        assert_cache_matches(updated)
        # The declared part kept for the next update is the one in force now.
        kept = DeclaredLine.objects.filter(map=updated).count()
        declared = build.fold(build.gather_declared(build.Raw(), start=t - timedelta(days=365), end=t),
                              keep_weightless=True)  # fmt: skip
        assert kept == len(declared.kind)


def test_an_update_is_idempotent_and_reads_only_what_is_new(world: World, lounge: Space) -> None:
    town = Community(world, lounge, random.Random(7))
    t = timezone.now() - timedelta(days=1)
    town.act(60, around=t)
    build_map(window_days=365, now=t)
    m = Map.objects.get(label="")
    before = lines_of(m)
    assert m.last_activity_id == Activity.objects.order_by("-pk").values_list("pk", flat=True).first()
    first = update_map(now=t)
    assert first.lines_changed == 0 and lines_of(Map.objects.get(label="")) == before
    town.act(10, around=t + timedelta(hours=1), spread_days=0, ahead_days=0)
    later = t + timedelta(hours=2)
    second = update_map(now=later)
    assert second.lines_changed > 0
    # Readers that key caches on the map's time (hot groups) see the update.
    assert selectors.map_built_at() == Map.objects.get(label="").updated_at
    after = lines_of(Map.objects.get(label=""))
    again = update_map(now=later)
    assert again.lines_changed == 0 and lines_of(Map.objects.get(label="")) == after
    assert Map.objects.get(label="").last_activity_id == Activity.objects.order_by("-pk").first().pk  # type: ignore[union-attr]


def test_an_update_stopped_half_way_or_overtaken_changes_nothing(world: World, lounge: Space) -> None:
    town = Community(world, lounge, random.Random(11))
    t = timezone.now() - timedelta(days=1)
    town.act(60, around=t)
    build_map(window_days=365, now=t)
    m = Map.objects.get(label="")
    before = (lines_of(m), m.last_activity_id, m.window_to)
    town.act(15, around=t + timedelta(hours=1), spread_days=0, ahead_days=0)

    def stop(done: int, total: int) -> None:
        if done == total - 1:  # everything computed, nothing written yet
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        update_map(now=t + timedelta(hours=2), progress=stop)
    m.refresh_from_db()
    assert (lines_of(m), m.last_activity_id, m.window_to) == before and m.updated_at is None

    def rebuild(done: int, total: int) -> None:
        if done == total - 1:  # someone else rebuilds the map meanwhile
            build_map(window_days=365, now=t + timedelta(hours=2))

    with pytest.raises(ApplicationError) as err:
        update_map(now=t + timedelta(hours=2), progress=rebuild)
    assert err.value.code == ErrorCode.CONFLICT and "Run the update again" in err.value.message
    rebuilt = Map.objects.get(label="")
    assert rebuilt.updated_at is None and rebuilt.pk != m.pk
    # Run again, it goes through.
    update_map(now=t + timedelta(hours=3))
    assert Map.objects.get(label="").updated_at is not None


def test_a_changed_configuration_asks_for_a_full_build(world: World, lounge: Space, settings: Any) -> None:
    with pytest.raises(ApplicationError) as err:
        update_map()
    assert "no map to update yet" in err.value.message
    town = Community(world, lounge, random.Random(5))
    town.act(30, around=timezone.now())
    build_map(window_days=200)
    with pytest.raises(ApplicationError) as err:
        update_map(window_days=365)
    assert err.value.code == ErrorCode.CONFLICT and "covers 200 days" in err.value.message
    assert "--window 365" in err.value.message
    settings.MAP_WEIGHTS = "replied=5"
    with pytest.raises(ApplicationError) as err:
        update_map()
    assert err.value.code == ErrorCode.CONFLICT and "replied 3.0 -> 5.0" in err.value.message
    settings.MAP_WEIGHTS = ""
    with pytest.raises(ApplicationError) as err:
        update_map(now=timezone.now() - timedelta(days=3))
    assert "an update must end later" in err.value.message
    # A map from before updates existed.
    Map.objects.filter(label="").update(updatable=False)
    with pytest.raises(ApplicationError) as err:
        update_map()
    assert "run a full build once" in err.value.message


def test_the_command_line_updates(world: World, lounge: Space, capsys: pytest.CaptureFixture[str]) -> None:
    town = Community(world, lounge, random.Random(3))
    town.act(40, around=timezone.now())
    with pytest.raises(SystemExit):
        main(["map", "update"])
    assert "no map to update yet" in capsys.readouterr().err
    assert main(["map", "build"]) == 0
    capsys.readouterr()
    town.act(5, around=timezone.now(), spread_days=0, ahead_days=0)
    assert main(["map", "update"]) == 0
    out = capsys.readouterr()
    assert "Updated the current map" in out.out and "map update" in out.err
    assert main(["map", "build", "--incremental"]) == 0
    assert "Updated the current map (0 lines new or changed)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["map", "build", "--incremental", "--window", "30"])
    assert "covers 365 days" in capsys.readouterr().err


def test_the_page_and_the_api_update(world: World, lounge: Space, admin_client: Client, globex_client: Client) -> None:
    town = Community(world, lounge, random.Random(9))
    town.act(40, around=timezone.now())
    resp = admin_client.post("/map/update/", follow=True)
    assert b"no map to update yet" in resp.content
    build_map()
    page = admin_client.get("/map/").content.decode()
    assert 'action="/map/update/"' in page and "data-map-updated" not in page
    data_url = page.split('data-src="')[1].split('"')[0]
    town.act(5, around=timezone.now(), spread_days=0, ahead_days=0)
    resp = admin_client.post("/map/update/", follow=True)
    assert b"Updated the current map" in resp.content
    page = admin_client.get("/map/").content.decode()
    assert "data-map-updated" in page
    new_url = page.split('data-src="')[1].split('"')[0].replace("&amp;", "&")
    assert new_url != data_url.replace("&amp;", "&")
    # The page reads the binary form (convenor/web/tests/test_map_data.py); the JSON form holds the same.
    assert "format=bin" in new_url
    json_url = new_url.replace("format=bin", "format=json")
    data = json.loads(gzip.decompress(admin_client.get(json_url, HTTP_ACCEPT_ENCODING="gzip").content))
    current = Map.objects.get(label="")
    assert len(data["nodes"]["kind"]) == current.node_count
    # Days since the epoch, counted by the database, as the stored times give them.
    stored = Line.objects.filter(map=current).order_by("kind", "source", "target")
    days = [(-1 if ln.first_seen is None else int(ln.first_seen.timestamp() // 86_400),
             -1 if ln.last_seen is None else int(ln.last_seen.timestamp() // 86_400)) for ln in stored]  # fmt: skip
    assert list(zip(data["lines"]["f"], data["lines"]["l"], strict=True)) == days
    assert data["lines"]["w"] == [round(ln.weight, 2) for ln in stored]
    assert b"updated" in admin_client.get("/map/snapshots/").content
    # Members may not.
    assert globex_client.post("/map/update/").status_code == 404
    admin: Api = api_as(world.admin)
    done = admin.post("/map/update", {})
    assert done.status == 200 and done.body["updated_at"] and done.body["line_count"] > 0
    assert api_as(world.globex_user).post("/map/update", {}).status == 404


@pytest.mark.parametrize("seed", range(6))
def test_merging_a_day_into_the_stored_lines_is_folding_them_all(seed: int) -> None:
    """update.merge (the new part folded alone, then added by identity) gives exactly what
    build.fold gives on everything at once: same nodes, lines, order and figures."""
    rng = np.random.default_rng(seed)
    shift = build.KEY_SHIFT
    nodes = np.unique(rng.integers(1, 4, 60) * shift + rng.integers(1, 40, 60))

    def part(n: int, weightless: bool = False) -> update.Keyed:
        kind = rng.integers(0, len(build.LINE_ORDER), n)
        a, b = rng.choice(nodes, n), rng.choice(nodes, n)
        undirected = ~np.isin(kind, list(build.DIRECTED_LINES))
        a, b = np.where(undirected & (a > b), b, a), np.where(undirected & (a > b), a, b)
        first = np.where(rng.random(n) < 0.2, -1, rng.integers(1_000, 2_000, n))
        weight = np.zeros(n) if weightless else rng.random(n).round(3)
        return update.Keyed(kind, a, b, weight, rng.integers(1, 5, n), first, first + rng.integers(0, 500, n),
                            rng.integers(0, 8, n))  # fmt: skip

    stored = update.keyed(build.fold(update.raw_of(part(400))))
    new = [part(30), part(20, weightless=True), part(25)]
    universe = update.universe_of(stored, *new)
    ids = update.line_ids(stored, universe)
    keep = rng.random(len(ids)) > 0.1
    want = build.fold(update.raw_of(stored.take(keep), *new))
    got = update.merge(stored, ids, keep, universe, *new)
    assert np.array_equal(got.lines.keys, want.keys)
    for f in ("kind", "src", "dst", "evidence", "first", "last", "basis"):
        assert np.array_equal(getattr(got.lines, f), getattr(want, f)), f
    assert np.allclose(got.lines.weight, want.weight, rtol=0, atol=1e-9)
    assert np.array_equal(got.ids, np.sort(update.line_ids(update.keyed(want), universe)))
    from_stored = got.stored_at >= 0
    assert np.array_equal(ids[got.stored_at[from_stored]], got.ids[from_stored])
    assert keep[got.stored_at[from_stored]].all()


def test_stored_lines_are_named_alike_from_their_positions(world: World, lounge: Space) -> None:
    """The stored lines' identities taken from their node positions are those taken from their
    ends' keys, whether the map is read from the arrays kept beside the database or from it."""
    town = Community(world, lounge, random.Random(7))
    town.act(150, around=timezone.now())
    build_map(window_days=365)
    m = Map.objects.get(label="")
    update.drop_cache(m)
    from_db = update.load(m)
    update_map(now=timezone.now() + timedelta(hours=1))  # writes the arrays beside the database
    m = Map.objects.get(label="")
    from_cache = update.load(m)
    assert update._read_cache(m) is not None
    for stored in (from_db, from_cache):
        universe = update.universe_of(stored.lines, extra=stored.node_keys)
        assert len(stored.lines) > 0
        assert np.array_equal(update.stored_line_ids(stored, universe), update.line_ids(stored.lines, universe))


def test_a_full_build_places_the_busiest_nodes_first(world: World, lounge: Space) -> None:
    """The last positions, which an update vacates when nodes leave the map, hold the nodes
    with the fewest lines, so moving them rewrites few lines; the arrays kept beside the
    database hold the same positions."""
    town = Community(world, lounge, random.Random(3))
    town.act(200, around=timezone.now())
    build_map(window_days=365)
    m = Map.objects.get(label="")
    n = m.node_count
    ends = np.array(list(Line.objects.filter(map=m).values_list("source", "target")), dtype=np.int64)
    per_position = np.bincount(ends.ravel(), minlength=n)
    assert (np.diff(per_position) <= 0).all(), per_position
    assert per_position[-1] < per_position[0]
    assert_cache_matches(m)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the change log's triggers are SQLite's")
def test_the_update_reads_again_only_the_declarations_that_changed(
    world: World, lounge: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every way a declaration is written (a service, a bulk update or insert, a queryset delete,
    raw SQL, a merge of members) is logged by the triggers; the update then reads only those
    pairs' declarations again and still gives a full build's lines; with the log pruned past its
    mark it reads every declaration."""
    from django.db import connection

    from convenor.graph import services
    from convenor.graph.models import DeclaredChange, NodeKind
    from convenor.people.services import member_merge

    town = Community(world, lounge, random.Random(11))
    t = timezone.now() - timedelta(days=3)
    town.act(80, around=t)
    p = town.people
    rel = relationship_create(kind=RelationshipKind.KNOWS, source=p[3], target=p[4], started_on=date(2020, 1, 1))
    gone = relationship_create(kind=RelationshipKind.ADVISES, source=p[5], target=p[6])
    # A declared pair left as it is whose activity slides out of the window the next day: its
    # line is rebuilt, with its declaration as kept.
    relationship_create(kind=RelationshipKind.WORKS_WITH, source=p[1], target=p[2], started_on=date(2020, 1, 1))
    edge = t - timedelta(days=365) + timedelta(hours=6)
    for i, verb in enumerate([Verb.MET, Verb.MESSAGED, Verb.REPLIED]):
        record(actor=p[1], verb=verb, target_member=p[2], origin_id=f"edge-{i}", occurred_at=edge)
    build_map(window_days=365, now=t)
    assert DeclaredChange.objects.count() == 1  # pruned to the build's mark
    mark = DeclaredChange.objects.get().pk

    def key(m: Member) -> int:
        return int(build.node_key(NodeKind.MEMBER, np.array([m.pk]))[0])

    def logged() -> set[tuple[int, int]]:
        return {(min(a, b), max(a, b)) for a, b in DeclaredChange.objects.filter(pk__gt=mark).values_list(
            "source_key", "target_key")}  # fmt: skip

    Relationship.objects.filter(pk=rel.pk).update(strength=3.0)
    Relationship.objects.filter(pk=gone.pk).delete()
    Affiliation.objects.bulk_create([Affiliation(member=p[7], organization=town.orgs[0], started_on=date(2021, 1, 1))])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_relationship SET strength = 2 WHERE id = %s", [rel.pk])
    Relationship.objects.filter(pk=rel.pk).update(evidence="an edited note")  # not a figure: not logged
    org = int(build.node_key(NodeKind.ORGANIZATION, np.array([town.orgs[0].pk]))[0])
    assert logged() == {tuple(sorted((key(p[3]), key(p[4])))), tuple(sorted((key(p[5]), key(p[6])))),
                        (key(p[7]), org)}  # fmt: skip
    assert DeclaredChange.objects.filter(pk__gt=mark).count() == 6  # an update logs the pair before and after
    merged_away = member_create(name="Someone twice", email="twice@acme.example", organization=town.orgs[1])
    relationship_create(kind=RelationshipKind.WORKS_WITH, source=merged_away, target=p[8])
    member_merge(survivor=p[9], merged=merged_away)
    assert (key(p[8]), key(p[9])) in logged() or (key(p[9]), key(p[8])) in logged()

    calls: list[str | None] = []
    real = build.gather_declared

    def spy(raw: build.Raw, **kw: Any) -> build.Raw:
        calls.append(kw.get("ends_table"))
        return real(raw, **kw)

    monkeypatch.setattr(build, "gather_declared", spy)
    compare = services._declared_now
    seen: list[tuple[Any, update.Keyed]] = []

    def record_compared(*args: Any, **kw: Any) -> tuple[Any, update.Keyed]:
        seen.append(compare(*args, **kw))
        return seen[-1]

    monkeypatch.setattr(services, "_declared_now", record_compared)
    for step in range(2):
        t += timedelta(days=1)
        calls.clear()
        if step == 1:
            # Two changes, the log pruned past the map's mark (by a newer map's build, say): the
            # first change's rows are gone, the log cannot tell, so everything is read.
            Relationship.objects.filter(pk=rel.pk).update(strength=1.0)
            Relationship.objects.filter(pk=rel.pk).update(strength=4.0)
            DeclaredChange.objects.filter(pk__lte=DeclaredChange.objects.order_by("pk")[1].pk).delete()
        seen.clear()
        update_map(now=t)
        assert calls == ([services.DECLARED_ENDS_TABLE] if step == 0 else [None]), calls
        if step == 0:  # the pair the slid-out slice touched is compared, as kept
            pair = tuple(sorted((key(p[1]), key(p[2]))))
            assert pair in set(zip(seen[0][1].a.tolist(), seen[0][1].b.tolist(), strict=True))
        full = snapshot_create(label=f"declared-{step}", start=t - timedelta(days=365), end=t).map
        assert lines_of(Map.objects.get(label="")) == lines_of(full)
