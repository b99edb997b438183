"""What keeps a full build cheap at a million members (docs/map.md, "Performance"): node keys
numbered without sorting them, lines ordered by one number each, person-to-person pairs made
distinct in numpy rather than by igraph, rows laid out in bulk for SQLite, and the previous map
freed whole when nothing else is in its tables. None of it may change what is stored."""

from __future__ import annotations

import random
from datetime import timedelta

import igraph as ig
import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core.testing import World
from convenor.graph import analytics, build, services
from convenor.graph.models import DeclaredLine, Line, Map, Node
from convenor.graph.services import build_map, snapshot_create
from convenor.spaces.models import Space


def _keys(rng: np.random.Generator, count: int) -> build.I64:
    """Node keys of every kind: dense ids for people and places, hashes for conduits."""
    parts = [
        build.node_key("member", rng.integers(1, 5_000, count)),
        build.node_key("org", rng.integers(1, 40, count // 10)),
        build.node_key("space", rng.integers(10_000_000, 10_000_050, count // 10)),
        build.node_key("conduit", rng.integers(0, 1 << 32, 20)),
    ]
    keys = np.concatenate(parts)
    return keys[rng.permutation(len(keys))]


@pytest.mark.parametrize("seed", range(4))
def test_node_keys_are_numbered_as_np_unique_numbers_them(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = _keys(rng, 3_000)
    want_keys, want_inv = np.unique(keys, return_inverse=True)
    got_keys, got_inv = build.factorize(keys)
    assert np.array_equal(got_keys, want_keys) and got_keys.dtype == np.int64
    assert np.array_equal(got_inv, want_inv) and got_inv.dtype == np.int64
    empty_keys, empty_inv = build.factorize(np.empty(0, dtype=np.int64))
    assert len(empty_keys) == len(empty_inv) == 0


def _reference_fold(raw: build.Raw) -> build.Lines:
    """fold as it was written first: np.unique for the nodes, lexsort for the lines."""
    kind, src_k, dst_k = (np.concatenate(getattr(raw, f)) for f in ("kind", "src", "dst"))
    weight, count, first, last, basis = (np.concatenate(getattr(raw, f)) for f in ("weight", "count", "first",
                                                                                 "last", "basis"))  # fmt: skip
    keep = src_k != dst_k
    kind, src_k, dst_k, weight, count, first, last, basis = (
        x[keep] for x in (kind, src_k, dst_k, weight, count, first, last, basis)
    )
    keys, inv = np.unique(np.concatenate([src_k, dst_k]), return_inverse=True)
    src, dst = inv[: len(src_k)], inv[len(src_k) :]
    swap = ~np.isin(kind, list(build.DIRECTED_LINES)) & (src > dst)
    src, dst = np.where(swap, dst, src), np.where(swap, src, dst)
    order = np.lexsort((dst, src, kind))
    kind, src, dst, weight, count, first, last, basis = (
        x[order] for x in (kind, src, dst, weight, count, first, last, basis)
    )
    new = np.r_[True, (kind[1:] != kind[:-1]) | (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])]
    starts = np.flatnonzero(new)
    big = np.iinfo(np.int64).max
    first_f = np.minimum.reduceat(np.where(first < 0, big, first), starts)
    return build.Lines(
        keys, kind[starts], src[starts], dst[starts], np.add.reduceat(weight, starts),
        np.add.reduceat(count, starts), np.where(first_f == big, -1, first_f), np.maximum.reduceat(last, starts),
        np.bitwise_or.reduceat(basis, starts),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_fold_orders_and_adds_up_lines_as_lexsort_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    raw = build.Raw()
    for _ in range(3):  # several parts, as gather makes them
        count = 2_000
        ends = _keys(rng, count)
        src, dst = ends[rng.integers(0, len(ends), count)], ends[rng.integers(0, len(ends), count)]
        raw.add(rng.integers(0, len(build.LINE_ORDER), count), src, dst, rng.random(count) * 3,
                np.ones(count, dtype=np.int64), rng.integers(-1, 1 << 31, count), rng.integers(0, 1 << 31, count),
                rng.integers(0, 1 << 20, count))  # fmt: skip
    got, want = build.fold(raw), _reference_fold(raw)
    assert got.self_loops > 0
    for name in ("keys", "kind", "src", "dst", "weight", "evidence", "first", "last", "basis"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@pytest.mark.parametrize("seed", range(3))
def test_distinct_pairs_are_the_edges_igraph_simplify_leaves(seed: int) -> None:
    """Brokerage, two-step reach and the layout take their graphs' edges from simple_pairs: the
    same edges, in the same order, as igraph's simplify, so the scores are the same."""
    rng = np.random.default_rng(seed)
    n, e = 300, 2_000
    src, dst = rng.integers(0, n, e), rng.integers(0, n, e)
    g = ig.Graph(n=n, edges=analytics.edge_list(src, dst), directed=False)
    g.simplify(multiple=True, loops=True)
    a, b = analytics.simple_pairs(n, src, dst)
    assert np.asarray(g.get_edgelist(), dtype=np.int64).tolist() == np.column_stack([a, b]).tolist()


def test_the_layout_is_the_same_whatever_pythons_random_state() -> None:
    """igraph's force-directed layout draws from igraph's generator, Python's shared one unless
    set: the layout seeds it, so the same map is laid out the same."""
    rng = np.random.default_rng(5)
    n, e = 400, 1_600
    src, dst = rng.integers(0, n, e), rng.integers(0, n, e)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    keys = build.node_key("member", np.arange(n))
    k = len(src)
    zeros = np.zeros(k, dtype=np.int64)
    lines = build.Lines(keys, zeros, src, dst, np.ones(k), np.ones(k, dtype=np.int64), zeros, zeros, zeros)
    community = (np.arange(n) // 100).astype(np.int64)
    importance = np.linspace(1, 0, n)
    random.seed(1)
    first = analytics.layout(lines, community, importance)
    random.seed(2)
    second = analytics.layout(lines, community, importance)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert np.abs(first[0]).max() > 0


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 46, 47, 48, 95, 100, 250])
def test_bulk_insert_by_columns_writes_every_row_once(count: int) -> None:
    """Columns of numbers and of Python objects (None among them), 47 rows a statement on
    SQLite, parts of 47 rows here: every row once, in order, as the values were."""
    width = 21
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bulk_probe3")
        cols = ", ".join(f"c{i} BIGINT" for i in range(width - 3))
        cursor.execute(f"CREATE TEMPORARY TABLE bulk_probe3 (n BIGINT, t TEXT, f DOUBLE PRECISION, {cols})")
    n = np.arange(count, dtype=np.int64)
    text = np.array([None if i % 3 == 0 else f"row {i}" for i in range(count)], dtype=object)
    values = [n, text, n / 7, *(n * 100 + i for i in range(width - 3))]
    columns = ("n", "t", "f", *(f"c{i}" for i in range(width - 3)))
    assert services.bulk_insert_columns("bulk_probe3", columns, values, chunk=60) == count
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM bulk_probe3 ORDER BY n")  # noqa: S608  # fixed names
        got = [tuple(r) for r in cursor.fetchall()]
        cursor.execute("DROP TABLE bulk_probe3")
    assert got == [tuple(v[i] for v in values) for i in range(count)]
    assert all(type(r[0]) is int and (r[1] is None or type(r[1]) is str) for r in got)
    with pytest.raises(ValueError, match="one column"):
        services.bulk_insert_columns("bulk_probe3", ("a", "b"), [n, n[:-1] if count else np.ones(1)])


def test_the_previous_map_is_freed_whole_only_when_nothing_else_is_in_its_tables(world: World, lounge: Space) -> None:
    now = timezone.now()
    a, c, g = world.admin_member, world.acme_member, world.globex_member
    for i, (x, y) in enumerate([(c, a), (g, a), (c, g)]):
        record(actor=x, verb=Verb.REPLIED, target_member=y, origin_id=f"r{i}", occurred_at=now - timedelta(days=i))
    record(actor=g, verb=Verb.POSTED, place_kind="space", place_id=lounge.pk, origin_id="p")
    first = build_map(window_days=365).map
    tables = (Line._meta.db_table, DeclaredLine._meta.db_table, Node._meta.db_table)
    sqlite = connection.vendor == "sqlite"
    assert all(services._holds_only(t, [first.pk]) is sqlite for t in tables)
    second = build_map(window_days=365).map  # frees the first whole (on SQLite)
    assert not Line.objects.filter(map_id=first.pk).exists() and not Node.objects.filter(map_id=first.pk).exists()
    assert Line.objects.filter(map=second).count() == second.line_count > 0
    snap = snapshot_create(label="kept", start=now - timedelta(days=30)).map
    # A snapshot shares the tables: the current map's rows go one by one, the snapshot's stay.
    # (Only the current map keeps a declared part.)
    assert not any(services._holds_only(t, [second.pk]) for t in (Line._meta.db_table, Node._meta.db_table))
    assert services._holds_only(DeclaredLine._meta.db_table, [second.pk]) is sqlite
    assert services._holds_only(Line._meta.db_table, [second.pk, snap.pk]) is sqlite
    kept = Line.objects.filter(map=snap).count()
    third = build_map(window_days=365).map
    assert Line.objects.filter(map=snap).count() == kept == snap.line_count
    assert Node.objects.filter(map=snap).count() == snap.node_count
    assert not Line.objects.filter(map_id=second.pk).exists()
    assert set(Map.objects.values_list("pk", flat=True)) == {snap.pk, third.pk}


@pytest.mark.parametrize("nodes", [300, 3_000])
def test_brokerage_cut_from_the_graph_of_every_line_is_the_same(nodes: int) -> None:
    """The full build builds the graph of every line once, for Leiden, and cuts brokerage's
    graph from it: the same betweenness as from the distinct pairs, exact (small maps) or sampled."""
    rng = np.random.default_rng(nodes)
    e = nodes * 4
    src, dst = rng.integers(0, nodes, e), rng.integers(0, nodes, e)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    k = len(src)
    kinds = rng.integers(0, len(build.LINE_ORDER), k)
    keys = build.node_key("member", np.arange(nodes))
    zeros = np.zeros(k, dtype=np.int64)
    lines = build.Lines(keys, kinds, src, dst, np.ones(k), np.ones(k, dtype=np.int64), zeros, zeros, zeros)
    alone, alone_sampled = analytics.brokerage(lines)
    cut, cut_sampled = analytics.brokerage(lines, graph=analytics.undirected(lines))
    assert alone_sampled == cut_sampled == (nodes > analytics.BETWEENNESS_EXACT_NODES)
    assert np.array_equal(alone, cut) and alone.max() == 1.0
