"""What keeps the daily update cheap (docs/map.md, "The daily update"): the reads that follow an
index rather than scan, the declarations read as numbers, the index by influence built again
rather than kept up to date, the compact arrays kept beside the database. None of it may change
what is stored."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from convenor.core.testing import World
from convenor.graph import build, services, update
from convenor.graph.models import Map, Node
from convenor.graph.services import build_map, snapshot_create, update_map
from convenor.graph.tests.test_update import Community, assert_cache_matches
from convenor.people.models import Affiliation, Relationship, RelationshipKind
from convenor.people.services import affiliation_add, relationship_create
from convenor.spaces.models import Space


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every SQL statement run in the block."""
    seen: list[str] = []

    def note(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        yield seen


def _plan(sql: str, params: list[Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(r[-1]) for r in cursor.fetchall())


def test_the_logs_time_span_is_read_off_the_ends_of_its_index(world: World, lounge: Space) -> None:
    """A build (and an update's slices) asks for the log's first and last times: two look-ups at
    the ends of the time index, not a scan of the whole index (a tenth of a second at a million
    rows, several times per update)."""
    if connection.vendor != "sqlite":
        pytest.skip("the scan hint is SQLite's")
    Community(world, lounge, random.Random(1)).act(20, around=timezone.now())
    now = timezone.now()
    with _statements() as seen:
        assert build._scan_hint(build.Slice(start=now - timedelta(days=365), end=now)) == " NOT INDEXED"
    (sql,) = seen
    plan = _plan(sql.replace("%%", "%"), [])
    assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan


def test_declarations_are_read_as_the_lines_they_make(world: World) -> None:
    """Relationships between people, organisations or one of each, with or without a start (then
    their creation counts), in force or not; affiliations with or without a start."""
    a, c, g = world.admin_member, world.acme_member, world.globex_member
    on = date(2026, 3, 1)
    relationship_create(kind=RelationshipKind.KNOWS, source=a, target=c, strength=1.5, started_on=on)
    relationship_create(kind=RelationshipKind.PARTNER_OF, source=world.acme, target=world.globex)
    relationship_create(kind=RelationshipKind.CUSTOMER_OF, source=g, target=world.ours, started_on=on)
    relationship_create(kind=RelationshipKind.ADVISES, source=c, target=g, started_on=date(2020, 1, 1),
                        ended_on=date(2020, 6, 1))  # fmt: skip
    Affiliation.objects.filter(member=c).update(started_on=None)
    affiliation_add(member=a, organization=world.globex, started_on=on)
    end = timezone.now()
    raw = build.gather_declared(build.Raw(), start=end - timedelta(days=365), end=end)
    lines = update.keyed(build.fold(raw, keep_weightless=True))
    got = {
        (int(x), int(y)): (round(float(w), 6), int(f), build.basis_names(int(bits)))
        for x, y, w, f, bits in zip(lines.a, lines.b, lines.weight, lines.first, lines.basis, strict=True)
    }

    def key(end: Any) -> int:
        kind = "org" if end.__class__.__name__ == "Organization" else "member"
        return int(build.node_key(kind, np.array([end.pk]))[0])

    def day(d: date) -> int:
        return int((d - date(1970, 1, 1)).total_seconds())

    want: dict[tuple[int, int], tuple[float, int, list[str]]] = {}

    def add(x: int, y: int, weight: float, since: int, basis: str) -> None:
        """Declarations on the same line add up: weights summed, the earliest start, bases joined."""
        w0, f0, b0 = want.get((min(x, y), max(x, y)), (0.0, -1, []))
        first = since if f0 < 0 else f0 if since < 0 else min(f0, since)
        want[(min(x, y), max(x, y))] = (round(w0 + weight, 6), first, sorted([*b0, basis]))

    for rel in Relationship.objects.all():
        if rel.ended_on is not None and rel.ended_on < (end - timedelta(days=365)).date():
            continue
        since = day(rel.started_on) if rel.started_on else int(rel.created_at.timestamp())
        add(key(rel.source_member or rel.source_org), key(rel.target_member or rel.target_org),
            rel.strength * build.DECLARED_WEIGHT, since, f"declared:{rel.kind}")  # fmt: skip
    for aff in Affiliation.objects.filter(ended_on__isnull=True):
        since = day(aff.started_on) if aff.started_on else -1
        add(key(aff.member), key(aff.organization), build.AFFILIATION_WEIGHT, since, "affiliated")
    assert want == {k: (v[0], v[1], sorted(v[2])) for k, v in got.items()}
    assert any(v[1] == -1 for v in got.values()), "an affiliation with no start"


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'graph_node'")
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'graph_node'")
        return {r[0] for r in cursor.fetchall()}


def test_the_update_builds_the_index_by_influence_again_unless_snapshots_outweigh_it(
    world: World, lounge: Space
) -> None:
    """On SQLite the update drops graph_node's index by influence while it writes nearly every
    node's new influence and creates it again in the same transaction; with snapshots holding
    more nodes than it writes, it keeps the index up to date instead."""
    assert services.NODE_RANK_INDEX in {i.name for i in Node._meta.indexes}
    town = Community(world, lounge, random.Random(4))
    t = timezone.now() - timedelta(days=2)
    town.act(120, around=t)
    build_map(window_days=365, now=t)
    town.act(10, around=t + timedelta(hours=1), spread_days=0, ahead_days=0)
    with _statements() as seen:
        update_map(now=t + timedelta(hours=2))
    dropped = [s for s in seen if s.startswith("DROP INDEX")]
    if connection.vendor == "sqlite":
        assert dropped == [f'DROP INDEX "{services.NODE_RANK_INDEX}"']
        assert any(s.startswith(f'CREATE INDEX "{services.NODE_RANK_INDEX}"') for s in seen)
    else:
        assert not dropped
    assert services.NODE_RANK_INDEX in _index_names()
    # Snapshots holding more nodes than the update writes: the index is kept up to date.
    for i in range(3):
        snapshot_create(label=f"s{i}", start=t - timedelta(days=365), end=t)
    town.act(10, around=t + timedelta(hours=3), spread_days=0, ahead_days=0)
    with _statements() as seen:
        update_map(now=t + timedelta(hours=4))
    assert not [s for s in seen if s.startswith("DROP INDEX")]
    assert services.NODE_RANK_INDEX in _index_names()
    assert_cache_matches(Map.objects.get(label=""))


def test_the_update_writes_with_the_builds_page_cache_and_puts_it_back(world: World, lounge: Space) -> None:
    """On SQLite the update's writes (lines at random places, nearly every node's influence) run
    with the build's page cache, so their pages are not read again and spilled before the commit;
    the connection's own size is put back after."""
    if connection.vendor != "sqlite":
        pytest.skip("a SQLite setting")
    town = Community(world, lounge, random.Random(5))
    t = timezone.now() - timedelta(days=2)
    town.act(60, around=t)
    build_map(window_days=365, now=t)
    town.act(10, around=t + timedelta(hours=1), spread_days=0, ahead_days=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
    with _statements() as seen:
        update_map(now=t + timedelta(hours=2))
    assert f"PRAGMA cache_size = {-services.BUILD_CACHE_KIB}" in seen
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before


def test_the_rows_just_written_are_found_by_their_ids(world: World, lounge: Space) -> None:
    """The update finds the ids of the lines it wrote from the last ids (a range of the primary
    key), not by reading every line of the map through an index by map."""
    if connection.vendor != "sqlite":
        pytest.skip("a hint for SQLite's planner")
    town = Community(world, lounge, random.Random(5))
    town.act(60, around=timezone.now())
    m = build_map(window_days=365).map
    with _statements() as seen:
        services._inserted_rows(m, 0, after=10**9)
    (sql,) = seen
    plan = _plan(sql, [10**9, m.pk])
    assert "PRIMARY KEY" in plan and "INDEX" not in plan.replace("PRIMARY KEY", ""), plan


def test_the_kept_arrays_are_narrow_and_exact() -> None:
    """Whole numbers are kept in the narrowest type that holds them, and read back as they were,
    up to the widest values (bases of 34 bits, row ids past two billion)."""
    cols: dict[str, Any] = {
        "kind": np.array([0, 4, 2], dtype=np.int64),
        "pos": np.array([0, 70_000, 5], dtype=np.int64),
        "basis": np.array([1, 1 << 33, 7], dtype=np.int64),
        "row": np.array([3_000_000_000, 1, -1], dtype=np.int64),
        "weight": np.array([0.5, 1e-9, 3.25]),
        "counts": np.array([[1, 2], [3, 4], [5, 300]], dtype=np.int64),
    }
    narrow = {name: update.narrow(col) for name, col in cols.items()}
    assert narrow["kind"].dtype == np.int8 and narrow["pos"].dtype == np.int32 and narrow["counts"].dtype == np.int16
    assert narrow["basis"].dtype == np.int64 and narrow["row"].dtype == np.int64
    for name, col in cols.items():
        back = update.widen(narrow[name])
        assert back.dtype == col.dtype and back.flags.c_contiguous and np.array_equal(back, col), name


def test_the_kept_arrays_replace_older_ones(world: World, lounge: Space) -> None:
    """A build or update keeps one file of arrays for the current map; files of earlier maps, and
    of the earlier zip format, go. A file that does not match the map is not used."""
    town = Community(world, lounge, random.Random(6))
    town.act(60, around=timezone.now())
    m = build_map(window_days=365).map
    path = update._cache_path(m)
    folder = path.parent
    (folder / "lines-999.npz").write_bytes(b"old")
    (folder / "lines-998.npy").write_bytes(b"old")
    update_map(now=timezone.now() + timedelta(hours=1))
    m = Map.objects.get(label="")
    assert sorted(p.name for p in folder.glob("lines-*")) == [path.name]
    assert_cache_matches(m)
    # Stale: another map's stamp.
    Map.objects.filter(pk=m.pk).update(last_activity_id=m.last_activity_id + 1)
    m.refresh_from_db()
    assert update._read_cache(m) is None
    path.write_bytes(b"not arrays")
    assert update._read_cache(m) is None


def _people_lines(rng: np.random.Generator, people: np.ndarray, count: int, hubs: np.ndarray) -> update.Keyed:
    """Random lines between people (a third of them to a hub), of the three kinds between people."""
    a = rng.choice(people, count)
    b = np.where(rng.random(count) < 0.35, rng.choice(hubs, count), rng.choice(people, count))
    kind = rng.choice([build.LINE_CODE["connection"], build.LINE_CODE["influence"]], count)
    keep = a != b
    a, b, kind = a[keep], b[keep], kind[keep]
    undirected = ~np.isin(kind, list(build.DIRECTED_LINES))
    a, b = np.where(undirected & (a > b), b, a), np.where(undirected & (a > b), a, b)
    k = len(a)
    ones = np.ones(k, dtype=np.int64)
    return update.Keyed(kind.astype(np.int64), a, b, np.ones(k), ones, ones, ones, ones)


@pytest.mark.parametrize("seed", range(8))
def test_two_step_reach_follows_the_lines_gained_and_lost(seed: int) -> None:
    """analytics.reach2_update (the ends of pairs joined or parted counted again, their
    neighbours corrected pair by pair) gives what counting everyone again gives, with hubs,
    people leaving the map and people joining it; and a space among the lines changes nothing."""
    from convenor.graph import analytics

    rng = np.random.default_rng(seed)
    people = build.node_key("member", np.arange(1, 80))
    hubs = people[:3]
    space = build.node_key("space", np.array([1]))
    old = _people_lines(rng, people[:70], 400, hubs)
    stays = rng.random(len(old)) > 0.15
    left = people[60:70]  # everyone of theirs goes: they leave the map
    stays &= ~np.isin(old.a, left) & ~np.isin(old.b, left)
    visit = update.Keyed(
        *(np.array([v]) for v in (build.LINE_CODE["participation"], people[0], space[0], 1.0, 1, 1, 1, 1))
    )
    new = update.concat(
        old.take(stays), _people_lines(rng, np.concatenate([people[:60], people[70:]]), 60, hubs), visit
    )
    before, after = build.fold(update.raw_of(old)), build.fold(update.raw_of(new))
    universe = update.universe_of(old, new)
    ids_old, ids_new = update.line_ids(update.keyed(before), universe), update.line_ids(update.keyed(after), universe)
    n = after.n
    known, at_old = update.match(after.keys, before.keys)
    now_at = np.full(before.n, -1, dtype=np.int64)
    now_at[at_old[known]] = np.flatnonzero(known)
    gone = now_at < 0
    now_at[gone] = n + np.arange(int(gone.sum()))
    assert gone.sum() >= 5 and (~known).sum() >= 5
    was = analytics.reach2(before)[0]
    previous = analytics.Previous(
        known=known,
        community=np.zeros(n, dtype=np.int64),
        brokerage=np.zeros(n),
        reach2=np.where(known, was[at_old], 0),
        x=np.zeros(n),
        y=np.zeros(n),
        lines_gained=(after.src[~np.isin(ids_new, ids_old)], after.dst[~np.isin(ids_new, ids_old)]),
        lines_lost=(now_at[before.src[~np.isin(ids_old, ids_new)]], now_at[before.dst[~np.isin(ids_old, ids_new)]]),
        nodes_then=n + int(gone.sum()),
    )
    counted = analytics.reach2_update(after, previous)
    assert counted is not None
    assert counted[1] and counted[0].tolist() == analytics.reach2(after)[0].tolist()


@pytest.mark.parametrize("seed", range(4))
def test_the_updates_communities_move_only_what_changed_and_never_lose_modularity(seed: int) -> None:
    """Leiden over the map with each community's unchanged nodes held as one: those nodes stay
    with one another, and the division found is at least as good (modularity) as the previous
    one on the updated map."""
    import igraph as ig

    from convenor.graph import analytics

    rng = np.random.default_rng(seed)
    people = build.node_key("member", np.arange(1, 301))
    group = np.arange(300) // 30
    a = rng.integers(0, 300, 2_000)
    b = np.where(rng.random(2_000) < 0.8, group[a] * 30 + rng.integers(0, 30, 2_000), rng.integers(0, 300, 2_000))
    keep = a != b
    lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    k = len(lo)
    ones = np.ones(k, dtype=np.int64)
    kind = np.full(k, build.LINE_CODE["connection"], dtype=np.int64)
    lines = build.fold(
        update.raw_of(update.Keyed(kind, people[lo], people[hi], rng.random(k) * 4 + 1, ones, ones, ones, ones))
    )
    previous, _ = analytics.communities(lines, seed=seed)
    # A day: some nodes' lines changed (a few new lines between groups), one new community of nothing.
    changed = np.zeros(lines.n, dtype=bool)
    changed[rng.choice(lines.n, 25, replace=False)] = True
    got, count = analytics.communities_around(lines, previous, changed, seed=seed)
    assert count == len(np.unique(got))
    held = ~changed
    for c in np.unique(previous[held]).tolist():
        assert len(np.unique(got[held & (previous == c)])) == 1, c
    g = ig.Graph(n=lines.n, edges=analytics.edge_list(lines.src, lines.dst), directed=False)
    weights = np.log1p(lines.weight).tolist()
    assert g.modularity(got.tolist(), weights=weights) >= g.modularity(previous.tolist(), weights=weights) - 1e-12


def test_a_line_whose_figures_changed_keeps_its_row(world: World, lounge: Space) -> None:
    """A line gaining a day's activity, its ends in their places, is updated in place: same row
    id, new figures, and no line deleted or written again for it; a new line is written."""
    from convenor.activity.models import Verb
    from convenor.activity.services import record
    from convenor.graph.models import Line

    a, c, g = world.admin_member, world.acme_member, world.globex_member
    t = timezone.now() - timedelta(days=1)
    record(actor=c, verb=Verb.REPLIED, target_member=a, origin_id="r1", occurred_at=t - timedelta(days=3))
    record(actor=g, verb=Verb.MESSAGED, target_member=a, origin_id="m1", occurred_at=t - timedelta(days=2))
    m = build_map(window_days=365, now=t).map
    before = {(ln.kind, ln.source, ln.target): ln for ln in Line.objects.filter(map=m)}
    record(actor=c, verb=Verb.REPLIED, target_member=a, origin_id="r2", occurred_at=t + timedelta(minutes=5))
    record(actor=g, verb=Verb.MET, target_member=c, origin_id="m2", occurred_at=t + timedelta(minutes=6))
    with _statements() as seen:
        result = update_map(now=t + timedelta(hours=1))
    assert result.lines_changed == 2
    after = {(ln.kind, ln.source, ln.target): ln for ln in Line.objects.filter(map=m)}
    grown = [k for k in before if after[k].evidence != before[k].evidence]
    assert len(grown) == 1 and after[grown[0]].id == before[grown[0]].id
    assert after[grown[0]].evidence == 2 and after[grown[0]].weight == 2 * before[grown[0]].weight
    assert after[grown[0]].last_seen is not None and after[grown[0]].last_seen > before[grown[0]].last_seen  # type: ignore[operator]
    assert len(after) == len(before) + 1
    assert not [s for s in seen if s.startswith("DELETE FROM graph_line ")]
    assert_cache_matches(Map.objects.get(label=""))
    if connection.vendor == "sqlite":  # the lines are found by id, not by walking every line
        (create,) = [s for s in seen if s.startswith(f"CREATE TEMPORARY TABLE {services.LINES_TABLE}")]
        (change,) = [s for s in seen if s.startswith("UPDATE graph_line ")]
        with connection.cursor() as cursor:
            cursor.execute(create)
        plan = _plan(change, [])
        assert "SCAN" not in plan and "graph_line USING INTEGER PRIMARY KEY" in plan, plan


@pytest.mark.parametrize("seed", range(4))
def test_merging_into_stored_lines_in_or_out_of_order_is_folding(seed: int) -> None:
    """update.merge puts the day's new lines in their places among stored lines kept in their
    identities' order (no sort), and sorts when they are not (arrays kept by an older version):
    either way what build.fold gives on everything at once, also from stored columns as narrow
    as the kept arrays hold them (sums past their range widened)."""
    rng = np.random.default_rng(seed)
    nodes = np.unique(rng.integers(1, 4, 80) * build.KEY_SHIFT + rng.integers(1, 50, 80))

    def part(n: int, weightless: bool = False) -> update.Keyed:
        kind = rng.integers(0, len(build.LINE_ORDER), n)
        a, b = rng.choice(nodes, n), rng.choice(nodes, n)
        undirected = ~np.isin(kind, list(build.DIRECTED_LINES))
        a, b = np.where(undirected & (a > b), b, a), np.where(undirected & (a > b), a, b)
        first = rng.integers(1_000, 2_000, n)
        weight = np.zeros(n) if weightless else rng.random(n).round(3) + 0.001
        return update.Keyed(kind, a, b, weight, rng.integers(1, 5, n), first, first + 5, rng.integers(0, 8, n))

    stored = update.keyed(build.fold(update.raw_of(part(500))))
    stored.evidence = np.full(len(stored), 125)  # near the top of int8: the day's evidence takes some past it
    new = [part(40), part(15, weightless=True)]
    universe = update.universe_of(stored, *new)
    keep = rng.random(len(stored)) > 0.1
    want = build.fold(update.raw_of(stored.take(keep), *new))
    shuffled = rng.permutation(len(stored))
    for order, thin in ((np.arange(len(stored)), False), (np.arange(len(stored)), True), (shuffled, True)):
        lines = stored.take(order)
        ids = update.line_ids(lines, universe)
        if thin:
            lines = update.Keyed(*(update.narrow(getattr(lines, f)) for f in update._FIELDS))
            assert lines.kind.dtype == np.int8 and lines.evidence.dtype == np.int8
        got = update.merge(lines, ids, keep[order], universe, *new)
        assert np.array_equal(got.lines.keys, want.keys)
        for f in ("kind", "src", "dst", "evidence", "first", "last", "basis"):
            assert np.array_equal(getattr(got.lines, f), getattr(want, f)), f
        assert np.allclose(got.lines.weight, want.weight, rtol=0, atol=1e-9)
        # Narrow columns stay narrow unless a value would not fit (the evidence here).
        assert got.lines.evidence.dtype == np.int64
        assert got.lines.kind.dtype == (np.int8 if thin and order is not shuffled else np.int64)
        came = got.stored_at >= 0
        assert np.array_equal(update.line_ids(lines, universe)[got.stored_at[came]], got.ids[came])


@pytest.mark.django_db
def test_times_are_read_as_seconds_without_a_text_on_newer_sqlite() -> None:
    """On SQLite 3.38 and later a time is read as epoch seconds with unixepoch(): the same whole
    seconds as CAST(strftime('%s') AS INTEGER) gives (SQLite computes both from the same
    milliseconds; before 1970 too), without formatting a text and reading it back."""
    import sqlite3

    if connection.vendor != "sqlite" or sqlite3.sqlite_version_info < (3, 38, 0):
        pytest.skip("unixepoch() is SQLite's, from 3.38")
    assert build._epoch_sql("x") == "unixepoch(x)"
    texts = ["2026-12-07 17:49:00.999999", "2026-12-07 17:49:00.4", "2026-03-01", "1969-12-31 23:59:59.5", None]
    with connection.cursor() as cursor:
        for text in texts:
            cursor.execute(f"SELECT {build._epoch_sql('%s')}, CAST(strftime('%%s', %s) AS INTEGER)", [text, text])
            fast, slow = cursor.fetchone()
            assert fast == slow, text


@pytest.mark.parametrize("seed", range(6))
def test_node_keys_are_located_as_a_binary_search_finds_them(seed: int) -> None:
    """update.locate reads a key's place from a table per kind of node (dense ids), searching only
    for sparse ids (conduits' hashes) and keys not there; update.among is np.isin for an ascending
    array. Both give exactly what numpy gives."""
    rng = np.random.default_rng(seed)
    universe = np.unique(np.concatenate([
        build.node_key("member", rng.integers(1, 3_000, 2_000)),
        build.node_key("org", rng.integers(1, 50, int(rng.integers(0, 30)))),
        build.node_key("conduit", rng.integers(0, 1 << 32, 5)),
    ]))  # fmt: skip
    keys = np.concatenate([
        universe[rng.integers(0, len(universe), 5_000)],
        build.node_key("member", rng.integers(0, 4_000, 200)),  # some not in the universe, some past its ids
        build.node_key("space", rng.integers(0, 9, 20)),
        build.node_key("conduit", rng.integers(0, 1 << 32, 3)),
    ])  # fmt: skip
    keys = keys[rng.permutation(len(keys))]
    assert np.array_equal(update.locate(universe, keys), np.searchsorted(universe, keys))
    assert update.locate(universe, keys).dtype == np.int64
    assert len(update.locate(universe, keys[:0])) == 0
    assert np.array_equal(update.among(keys, universe), np.isin(keys, universe))
    assert not update.among(keys, universe[:0]).any()
