"""Scoring a folded map with igraph: degree by kind, influence, brokerage,
communities, two-step reach, organisations' ties, and a layout.

Everything takes and returns numpy arrays aligned with the node positions of `build.Lines`.
"""

from __future__ import annotations

import gc
import math
import random
from dataclasses import dataclass

import igraph as ig
import numpy as np
import numpy.typing as npt
from scipy import sparse

from convenor.core.arrays import sorted_unique
from convenor.graph.build import F64, I64, KIND_CODE, LINE_CODE, LINE_ORDER, Lines
from convenor.graph.models import LineKind, NodeKind

# Exact betweenness up to this many nodes; above it, from a random sample of sources: as
# many as a budget of traversed lines allows, between 16 and 200.
BETWEENNESS_EXACT_NODES = 2_000
BETWEENNESS_SAMPLES = 200
BETWEENNESS_BUDGET = 100_000_000
# Exact two-step reach while the work (sum of squared degrees) stays under this; above it,
# an upper bound (the sum of the neighbours' degrees, capped at the number of people).
REACH_EXACT_WORK = 200_000_000
# Communities laid out one by one with a force-directed layout up to this many nodes in all;
# the rest of each community's nodes go on a sunflower spiral, hubs in the middle.
FORCE_LAYOUT_NODES = 20_000
SEED = 20260101
PERSON_LINES = (LINE_CODE[LineKind.CONNECTION], LINE_CODE[LineKind.INFLUENCE], LINE_CODE[LineKind.PROSPECTING])


@dataclass
class Scores:
    pagerank: F64
    brokerage: F64
    community: I64  # -1 for none
    degree: I64  # lines to other people
    by_kind: dict[str, I64]
    reach2: I64
    internal: I64
    external: I64
    x: F64
    y: F64
    communities: int
    reach_exact: bool = True
    betweenness_sampled: bool = False


def person_mask(lines: Lines) -> npt.NDArray[np.bool_]:
    return np.asarray(lines.node_kind == KIND_CODE[NodeKind.MEMBER], dtype=bool)


def edge_list(src: I64, dst: I64) -> list[tuple[int, int]]:
    """Edges as igraph takes them: pairs of plain ints (zipping two flat lists is about twice as
    fast as turning a two-column array into a list of lists, on a million lines). Python's cycle
    collector is held off meanwhile: it would otherwise walk the young pairs again and again
    (a third of the time at ten million), and pairs of ints hold no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        return list(zip(src.tolist(), dst.tolist(), strict=True))
    finally:
        if was:
            gc.enable()


DAMPING = 0.85
PAGERANK_TOLERANCE = 1e-13  # on the sum of the changes of one step
PAGERANK_MAX_STEPS = 1_000


def pagerank(lines: Lines) -> F64:
    """Weighted PageRank on influence lines, run against the flow of influence (the influenced
    point at who influenced them), normalised to sum to 1 over people.

    The same PageRank as igraph's (damping 0.85, a walker at a node with no way out jumps to any
    node), computed by power iteration over a sparse matrix: igraph itself needs a graph built
    from a Python list of every line first, which took several times longer than the whole
    iteration (0.17 s against 0.03 s on 390,000 lines). A test checks it against igraph's."""
    n = lines.n
    people = person_mask(lines)
    pr = np.zeros(n)
    if not people.any():
        return pr
    sel = lines.kind == LINE_CODE[LineKind.INFLUENCE]
    ranks = walk_ranks(n, lines.dst[sel], lines.src[sel], lines.weight[sel])
    pr[people] = ranks[people]
    total = pr.sum()
    return pr / total if total > 0 else pr


def walk_ranks(n: int, frm: I64, to: I64, weight: F64) -> F64:
    """PageRank of a weighted directed graph of `n` nodes given by its edges (summing to 1)."""
    out = np.bincount(frm, weights=weight, minlength=n)
    stuck = out <= 0
    step = sparse.csr_matrix((weight / out[frm], (to, frm)), shape=(n, n))
    x = np.full(n, 1.0 / n)
    for _ in range(PAGERANK_MAX_STEPS):
        nxt = DAMPING * (step @ x) + (DAMPING * x[stuck].sum() + 1.0 - DAMPING) / n
        change = float(np.abs(nxt - x).sum())
        x = nxt
        if change < PAGERANK_TOLERANCE:
            break
    ranks: F64 = x / x.sum()
    return ranks


def brokerage(lines: Lines, *, seed: int = SEED, graph: ig.Graph | None = None) -> tuple[F64, bool]:
    """Betweenness over people and organisations (connection, influence, prospecting lines,
    undirected), normalised to 0..1. Sampled from some sources on large maps. `graph`: every
    line as an undirected edge (`undirected(lines)`), when built already: the graph of these
    lines is then cut from it by igraph (the same graph, in C, without a Python pair per line)."""
    n = lines.n
    sel = np.isin(lines.kind, PERSON_LINES)
    out = np.zeros(n)
    if not sel.any():
        return out, False
    if graph is None:
        a, b = simple_pairs(n, lines.src[sel], lines.dst[sel])
        g = ig.Graph(n=n, edges=edge_list(a, b), directed=False)
    else:
        g = graph.subgraph_edges(np.flatnonzero(sel).tolist(), delete_vertices=False)
        g.simplify(multiple=True, loops=True)  # the edges simple_pairs gives, in its order
    active = np.flatnonzero(np.asarray(g.degree()) > 0)
    sampled = len(active) > BETWEENNESS_EXACT_NODES
    if sampled:
        rng = np.random.default_rng(seed)
        per_source = len(active) + g.ecount()
        k = int(min(BETWEENNESS_SAMPLES, max(16, BETWEENNESS_BUDGET // max(per_source, 1)), len(active)))
        sources = rng.choice(active, size=k, replace=False).tolist()
        bt = np.asarray(g.betweenness(directed=False, sources=sources, targets=active.tolist()))
    else:
        bt = np.asarray(g.betweenness(directed=False))
    top = bt.max() if len(bt) else 0.0
    return (bt / top if top > 0 else bt), sampled


def simple_pairs(n: int, src: I64, dst: I64) -> tuple[I64, I64]:
    """The distinct pairs of different nodes the given lines join, either way round, the smaller
    first, in ascending order: the edges igraph's `simplify` leaves of them, in its order (a test
    checks it), without building the graph of every line first."""
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keep = lo != hi
    codes = sorted_unique(lo[keep] * np.int64(n) + hi[keep])
    return codes // n, codes % n


def undirected(lines: Lines) -> ig.Graph:
    """Every line as an undirected edge, edge i for line i."""
    return ig.Graph(n=lines.n, edges=edge_list(lines.src, lines.dst), directed=False)


def communities(
    lines: Lines, *, seed: int = SEED, initial: I64 | None = None, graph: ig.Graph | None = None
) -> tuple[I64, int]:
    """Leiden communities (modularity) over every line, undirected, on log-damped weights, so
    that one very busy space does not swallow everyone. Numbered by size, largest first.

    `initial` (the daily update's) starts from the previous communities, -1 for new nodes,
    each of which starts alone: the communities stay recognisable from day to day. `graph`:
    `undirected(lines)`, when built already."""
    n = lines.n
    if n == 0:
        return np.empty(0, dtype=np.int64), 0
    g = undirected(lines) if graph is None else graph
    weights = np.log1p(lines.weight).tolist()
    start = None
    if initial is not None:
        init = initial.astype(np.int64).copy()
        alone = init < 0
        init[alone] = (init.max() + 1 if len(init) else 0) + np.arange(int(alone.sum()))
        start = np.unique(init, return_inverse=True)[1].astype(np.int64).tolist()
    # igraph's own Leiden (the same algorithm as leidenalg's, for modularity): about twenty
    # times faster here on the same graph. Seeded for maps that do not change between runs.
    ig.set_random_number_generator(random.Random(seed))  # noqa: S311  # layout and communities, not secrets
    try:
        # From the previous communities (the daily update) one pass refines them enough.
        part = g.community_leiden(
            objective_function="modularity", weights=weights, n_iterations=1 if start else 2, initial_membership=start
        )
    finally:
        ig.set_random_number_generator(random)  # igraph's default: Python's shared generator
    membership = np.asarray(part.membership, dtype=np.int64)
    return renumber_by_size(membership)


def communities_around(
    lines: Lines, previous: I64, changed: npt.NDArray[np.bool_], *, seed: int = SEED
) -> tuple[I64, int]:
    """The daily update's communities: Leiden (modularity, as `communities`) from the previous
    communities, over the map with each community's nodes whose lines did not change held
    together as one node (their lines among themselves a loop, to the rest summed). So the nodes
    whose lines changed, and new nodes (each starting alone), move one by one; a community's
    unchanged part moves only as a whole (two communities merging). The modularity of any
    division of the held map is that of the same division of the whole, so Leiden weighs
    the same gains; it only does not revisit nodes nothing happened to. Numbered by size."""
    n = lines.n
    if n == 0:
        return np.empty(0, dtype=np.int64), 0
    free = changed | (previous < 0)
    held = np.flatnonzero(~free)
    nf = int(free.sum())
    group = np.empty(n, dtype=np.int64)
    group[free] = np.arange(nf)
    cores, core_of = np.unique(previous[held], return_inverse=True)
    group[held] = nf + core_of
    k = len(cores)
    weight = np.log1p(lines.weight)
    one = free[lines.src] | free[lines.dst]
    # Lines are summed per pair of (free or held) nodes: a held part's own lines make its loop.
    size = nf + k
    ga, gb = group[lines.src], group[lines.dst]
    codes = np.minimum(ga, gb) * size + np.maximum(ga, gb)
    # Between held parts (most lines): a count per pair of parts when there are few parts.
    held_codes = codes[~one] - nf * size - nf
    if k * k <= 1 << 22:
        sums = np.bincount((held_codes // size) * k + held_codes % size, weights=weight[~one], minlength=k * k)
        pair = np.flatnonzero(sums)
        held_pairs, held_sums = (nf + pair // k) * size + nf + pair % k, sums[pair]
    else:
        held_pairs, inverse = np.unique(codes[~one], return_inverse=True)
        held_sums = np.bincount(inverse, weights=weight[~one], minlength=len(held_pairs))
    free_pairs, inverse = np.unique(codes[one], return_inverse=True)
    free_sums = np.bincount(inverse, weights=weight[one], minlength=len(free_pairs))
    pairs = np.concatenate([free_pairs, held_pairs])
    src, dst = pairs // size, pairs % size
    g = ig.Graph(n=size, edges=edge_list(src, dst), directed=False)
    init = np.concatenate([previous[free], cores]).astype(np.int64)
    alone = init < 0
    init[alone] = (init.max() + 1 if len(init) else 0) + np.arange(int(alone.sum()))
    start = np.unique(init, return_inverse=True)[1].astype(np.int64).tolist()
    # Each held part weighs what its nodes weigh (its loop counted twice, as each line among its
    # nodes counts at both ends): given, since igraph's Leiden counts a loop once on its own.
    strength = np.bincount(lines.src, weights=weight, minlength=n) + np.bincount(lines.dst, weights=weight, minlength=n)
    ig.set_random_number_generator(random.Random(seed))  # noqa: S311  # layout and communities, not secrets
    try:
        part = g.community_leiden(
            objective_function="modularity",
            weights=np.concatenate([free_sums, held_sums]).tolist(),
            node_weights=np.bincount(group, weights=strength, minlength=size).tolist(),
            n_iterations=2,
            initial_membership=start,
        )
    finally:
        ig.set_random_number_generator(random)
    membership = np.asarray(part.membership, dtype=np.int64)[group]
    return renumber_by_size(membership)


def renumber_by_size(membership: I64) -> tuple[I64, int]:
    sizes = np.bincount(membership)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[membership].astype(np.int64), len(sizes)


def degrees(lines: Lines) -> tuple[I64, dict[str, I64]]:
    n = lines.n
    by_kind = {}
    for code, name in enumerate(LINE_ORDER):
        sel = lines.kind == code
        by_kind[str(name)] = (
            np.bincount(lines.src[sel], minlength=n) + np.bincount(lines.dst[sel], minlength=n)
        ).astype(np.int64)
    people = person_mask(lines)
    pp = people[lines.src] & people[lines.dst]
    degree = (np.bincount(lines.src[pp], minlength=n) + np.bincount(lines.dst[pp], minlength=n)).astype(np.int64)
    return degree, by_kind


def person_pairs(lines: Lines) -> tuple[I64, I64]:
    """The distinct pairs of people joined by a line (`simple_pairs` of the person-to-person lines)."""
    people = person_mask(lines)
    pp = people[lines.src] & people[lines.dst]
    return simple_pairs(lines.n, lines.src[pp], lines.dst[pp])


def _pair_degree(n: int, pairs: tuple[I64, I64]) -> I64:
    src, dst = pairs
    return (np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)).astype(np.int64)


def reach2(lines: Lines, *, pairs: tuple[I64, I64] | None = None) -> tuple[I64, bool]:
    """People within two steps over person-to-person lines (not counting oneself). The daily
    update counts it again only where it changed (`reach2_update`). `pairs`: person_pairs(lines),
    when known."""
    n = lines.n
    people = person_mask(lines)
    out = np.zeros(n, dtype=np.int64)
    src, dst = person_pairs(lines) if pairs is None else pairs
    if not len(src):
        return out, True
    deg = _pair_degree(n, (src, dst))
    if reach_exact(deg):
        g = ig.Graph(n=n, edges=edge_list(src, dst), directed=False)
        out[:] = np.asarray(g.neighborhood_size(order=2, mindist=1), dtype=np.int64)
        return out, True
    # Upper bound: one step plus the neighbours' other lines, capped by the people there are.
    bound = (
        deg + np.bincount(src, weights=deg[dst] - 1, minlength=n) + np.bincount(dst, weights=deg[src] - 1, minlength=n)
    )
    out[:] = np.minimum(bound.astype(np.int64), max(int(people.sum()) - 1, 0))
    out[deg == 0] = 0
    return out, False


def reach_exact(degree: I64) -> bool:
    """Whether two-step reach is counted exactly, given each node's number of distinct people
    one step away."""
    return int((degree.astype(np.float64) ** 2).sum()) <= REACH_EXACT_WORK


def person_degree(lines: Lines) -> I64:
    """Each node's number of distinct people one step away (any person-to-person line)."""
    n = lines.n
    people = person_mask(lines)
    pp = people[lines.src] & people[lines.dst]
    a, b = lines.src[pp], lines.dst[pp]
    codes = np.sort(np.minimum(a, b) * np.int64(n) + np.maximum(a, b))
    pairs = codes[np.concatenate([[True], codes[1:] != codes[:-1]])] if len(codes) else codes
    return (np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)).astype(np.int64)


def org_ties(lines: Lines, org_of: I64) -> tuple[I64, I64]:
    """For each organisation node: person-to-person lines among its people, and from them to others.
    `org_of` gives each node the node position of its organisation (-1 for none)."""
    n = lines.n
    people = person_mask(lines)
    pp = people[lines.src] & people[lines.dst]
    a, b = org_of[lines.src[pp]], org_of[lines.dst[pp]]
    same = (a == b) & (a >= 0)
    internal = np.bincount(a[same], minlength=n).astype(np.int64)
    diff = ~same
    ext_a = a[diff & (a >= 0)]
    ext_b = b[diff & (b >= 0)]
    external = (np.bincount(ext_a, minlength=n) + np.bincount(ext_b, minlength=n)).astype(np.int64)
    return internal, external


def _sunflower(count: int) -> tuple[F64, F64]:
    """`count` points spread evenly over a unit disc, the first ones in the middle."""
    k = np.arange(count, dtype=np.float64)
    r = np.sqrt((k + 0.5) / max(count, 1))
    theta = k * math.pi * (3 - math.sqrt(5))
    return r * np.cos(theta), r * np.sin(theta)


def layout(lines: Lines, community: I64, importance: F64, *, seed: int = SEED) -> tuple[F64, F64]:
    """Community first, then within each community: communities are placed by a force-directed
    layout of the graph between them (discs sized by their node count), and each community's
    nodes by a force-directed layout of its own lines when small enough, else on a spiral with
    the most important nodes in the middle. Runs in seconds at 50,000 nodes.

    igraph's force-directed layout draws random numbers of its own, from igraph's generator
    (Python's shared one unless set): seeded here, so that the same map is laid out the same."""
    ig.set_random_number_generator(random.Random(seed))  # noqa: S311  # a layout, not secrets
    try:
        return _layout(lines, community, importance, seed=seed)
    finally:
        ig.set_random_number_generator(random)


def _layout(lines: Lines, community: I64, importance: F64, *, seed: int) -> tuple[F64, F64]:
    n = lines.n
    x, y = np.zeros(n), np.zeros(n)
    if n == 0:
        return x, y
    c = community.copy()
    c[c < 0] = c.max() + 1 if len(c) else 0
    k = int(c.max()) + 1
    sizes = np.bincount(c, minlength=k).astype(np.float64)
    radius = np.sqrt(sizes)

    # The communities' centres.
    cs, cd = c[lines.src], c[lines.dst]
    between = cs != cd
    if k == 1:
        cx, cy = np.zeros(1), np.zeros(1)
    else:
        big = min(k, 400)  # the largest communities get a force layout, the rest a spiral around them
        sel = between & (cs < big) & (cd < big)
        lo, hi = simple_pairs(big, cs[sel], cd[sel])  # the rows np.unique(..., axis=0) gave, faster
        g = ig.Graph(n=big, edges=edge_list(lo, hi), directed=False)
        rng = np.random.default_rng(seed)
        seed_pos = rng.uniform(-1, 1, size=(big, 2)).tolist()
        pos = np.asarray(g.layout_fruchterman_reingold(seed=seed_pos, niter=300).coords, dtype=np.float64)
        pos -= pos.mean(axis=0)
        # Scale so that neighbouring discs roughly touch.
        spread = np.sqrt((pos**2).sum(axis=1)).max() or 1.0
        span = 2.2 * math.sqrt(sizes[:big].sum())
        pos *= span / spread
        cx, cy = np.zeros(k), np.zeros(k)
        cx[:big], cy[:big] = pos[:, 0], pos[:, 1]
        if k > big:
            sx, sy = _sunflower(k - big)
            ring = span * 1.2 + 3 * math.sqrt(sizes[big:].sum())
            cx[big:], cy[big:] = ring * sx, ring * sy

    # Each community's nodes around its centre.
    order = np.lexsort((-importance, c))
    bounds = np.searchsorted(c[order], np.arange(k + 1))
    budget = FORCE_LAYOUT_NODES
    within = ~between
    w_src, w_dst, w_c = lines.src[within], lines.dst[within], cs[within]
    by_c = np.argsort(w_c, kind="stable")
    w_bounds = np.searchsorted(w_c[by_c], np.arange(k + 1))
    for ci in range(k):
        members = order[bounds[ci] : bounds[ci + 1]]
        m = len(members)
        if m == 0:
            continue
        if 3 <= m <= 2_000 and budget >= m:
            budget -= m
            local = np.full(n, -1, dtype=np.int64)
            local[members] = np.arange(m)
            idx = by_c[w_bounds[ci] : w_bounds[ci + 1]]
            edges = np.column_stack([local[w_src[idx]], local[w_dst[idx]]])
            g = ig.Graph(n=m, edges=edges.tolist(), directed=False)
            g.simplify()
            rng = np.random.default_rng(seed + ci)
            start = rng.uniform(-1, 1, size=(m, 2)).tolist()
            pos = np.asarray(g.layout_fruchterman_reingold(seed=start, niter=200).coords, dtype=np.float64)
            pos -= pos.mean(axis=0)
            scale = np.sqrt((pos**2).sum(axis=1)).max() or 1.0
            px, py = pos[:, 0] / scale, pos[:, 1] / scale
        else:
            px, py = _sunflower(m)
        x[members] = cx[ci] + px * radius[ci]
        y[members] = cy[ci] + py * radius[ci]
    # Fit into -1000..1000 so the browser's numbers stay small.
    span = max(np.abs(x).max(), np.abs(y).max()) or 1.0
    return x * (1000 / span), y * (1000 / span)


def score(lines: Lines, org_node: I64, *, seed: int = SEED) -> Scores:
    """Every per-node result for one map. `org_node` is each node's organisation node position or -1."""
    degree, by_kind = degrees(lines)
    pr = pagerank(lines)
    # An organisation's influence is its people's.
    has_org = (org_node >= 0) & person_mask(lines)
    pr_org = np.bincount(org_node[has_org], weights=pr[has_org], minlength=lines.n)
    is_org = lines.node_kind == KIND_CODE[NodeKind.ORGANIZATION]
    pr = np.where(is_org, pr_org, pr)
    # Every line as an edge, built once for both Leiden and (cut from it) brokerage.
    whole = undirected(lines) if lines.n else None
    comm, count = communities(lines, seed=seed, graph=whole)
    bt, sampled = brokerage(lines, seed=seed, graph=whole)
    del whole
    reach, exact = reach2(lines)
    internal, external = org_ties(lines, org_node)
    importance = pr + degree.astype(np.float64) * 1e-9
    x, y = layout(lines, comm, importance, seed=seed)
    return Scores(
        pagerank=pr,
        brokerage=bt,
        community=comm,
        degree=degree,
        by_kind=by_kind,
        reach2=reach,
        internal=internal,
        external=external,
        x=x,
        y=y,
        communities=count,
        reach_exact=exact,
        betweenness_sampled=sampled,
    )


def keep_numbers(community: I64, previous: I64) -> I64:
    """Number the communities as before where they carry on: each takes the previous number most
    of its nodes had (the biggest overlaps choose first), if still free; the others get unused
    numbers. So a community keeps its number, and its colour, from day to day."""
    if not len(community) or not (previous >= 0).any():
        return community
    k = int(community.max()) + 1
    span = int(previous.max()) + 1
    known = previous >= 0
    pairs, counts = np.unique(community[known] * span + previous[known], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    number = np.full(k, -1, dtype=np.int64)
    taken: set[int] = set()
    for pair in pairs[order].tolist():
        new, old = divmod(pair, span)
        if number[new] < 0 and old not in taken:
            number[new] = old
            taken.add(old)
    free = (i for i in range(k + span) if i not in taken)
    for c in np.flatnonzero(number < 0).tolist():
        number[c] = next(free)
    out: I64 = number[community]
    return out


@dataclass
class Previous:
    """What the daily update keeps from the stored map, aligned with the updated map's nodes:
    `known` marks nodes that were on it; the others hold -1 or 0."""

    known: npt.NDArray[np.bool_]
    community: I64
    brokerage: F64
    reach2: I64
    x: F64
    y: F64
    # Person-to-person lines gained (ends as positions on the updated map) and lost (ends as
    # positions, or n + k for the k-th node no longer on the map), over `nodes_then` nodes in
    # all; None to count two-step reach again for everyone.
    lines_gained: tuple[I64, I64] | None = None
    lines_lost: tuple[I64, I64] | None = None
    nodes_then: int = 0
    # Nodes whose lines changed (gained, lost, or their figures): the ones Leiden may move on
    # their own; None to run it over every node.
    changed: npt.NDArray[np.bool_] | None = None


def person_counts(n: int, src: I64, dst: I64) -> sparse.csr_matrix:
    """How many of the given person-to-person lines join each pair of nodes, both ways (n x n)."""
    ones = np.ones(2 * len(src), dtype=np.int64)
    counts = sparse.csr_matrix(
        (ones, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n), dtype=np.int64
    )
    counts.sum_duplicates()
    return counts


def _rows_meet(a: sparse.csr_matrix, rows_a: I64, b: sparse.csr_matrix, rows_b: I64) -> npt.NDArray[np.bool_]:
    """For each i, whether row rows_a[i] of `a` and row rows_b[i] of `b` share a column."""
    if not len(rows_a):
        return np.zeros(0, dtype=bool)
    both = a[rows_a].multiply(b[rows_b])
    return np.asarray(both.getnnz(axis=1) > 0 if both.nnz else np.zeros(len(rows_a), dtype=bool)).ravel()


def reach2_update(lines: Lines, previous: Previous) -> tuple[I64, bool] | None:
    """Two-step reach on the updated map from the previous counts and the person-to-person lines
    gained and lost, exactly: counted again (two steps out, as a sparse product) for the ends of
    every pair of people joined or parted, and for their neighbours corrected by what changed
    two steps away, a check of common neighbours per pair rather than a walk through every hub
    next to them. None when it must be counted for everyone (the previous counts were, or the
    new ones would be, an upper bound)."""
    if previous.lines_gained is None or previous.lines_lost is None:
        return None
    n, big = lines.n, previous.nodes_then
    people = person_mask(lines)
    pp = people[lines.src] & people[lines.dst]
    counts = person_counts(big, lines.src[pp], lines.dst[pp])
    adjacency = counts.copy()
    adjacency.data[:] = 1
    degree = np.diff(adjacency.indptr).astype(np.int64)
    # Pairs some line of which was gained or lost, and whether the pair itself was there before
    # and is there now (a line count per pair, before: now minus gained plus lost).
    (ga, gb), (la, lb) = previous.lines_gained, previous.lines_lost
    g_codes = np.minimum(ga, gb) * big + np.maximum(ga, gb)
    l_codes = np.minimum(la, lb) * big + np.maximum(la, lb)
    pairs = np.unique(np.concatenate([g_codes, l_codes]))
    pa, pb = pairs // big, pairs % big
    now = np.asarray(counts[pa, pb]).ravel().astype(np.int64) if len(pairs) else np.zeros(0, dtype=np.int64)
    then = (
        now
        - np.bincount(np.searchsorted(pairs, g_codes), minlength=len(pairs))
        + np.bincount(np.searchsorted(pairs, l_codes), minlength=len(pairs))
    )
    moved = (now > 0) != (then > 0)
    ca, cb, joined = pa[moved], pb[moved], now[moved] > 0
    # The adjacency before is now's, less the pairs joined, plus the pairs parted (`change`).
    sign = np.where(joined, -1, 1).astype(np.int64)
    change = sparse.csr_matrix(
        (np.concatenate([sign, sign]), (np.concatenate([ca, cb]), np.concatenate([cb, ca]))), shape=(big, big)
    )
    degree_then = degree + np.bincount(np.concatenate([ca, cb]), weights=np.concatenate([sign, sign]), minlength=big)
    if not reach_exact(degree_then.astype(np.int64)) or not reach_exact(degree):
        return None
    out = np.where(previous.known, previous.reach2, 0).astype(np.int64)
    out[~people] = 0
    ends = np.unique(np.concatenate([ca, cb]))
    is_end = np.zeros(big, dtype=bool)
    is_end[ends] = True
    ends = ends[ends < n]
    if len(ends):
        # Two steps out of each end: its row of A + A @ A, less itself.
        rows = adjacency[ends]
        two = (rows @ adjacency + rows).tocsr()
        two.eliminate_zeros()
        self_reached = np.asarray(two[np.arange(len(ends)), ends]).ravel() != 0
        out[ends] = two.getnnz(axis=1) - self_reached
    # A neighbour v of an end u (v itself no end: its own neighbours are as they were) gains or
    # loses x, u's new or former partner, unless v reaches x another way (x is v's neighbour or
    # they share one); before, with x's former neighbours, and now.
    u = np.concatenate([ca, cb])
    x = np.concatenate([cb, ca])
    gain = np.concatenate([joined, joined])
    on = u < n
    u, x, gain = u[on], x[on], gain[on]
    deg_u = degree[u]
    total = int(deg_u.sum())
    if total:
        starts = np.repeat(adjacency.indptr[u], deg_u)
        offset = np.arange(total) - np.repeat(np.cumsum(deg_u) - deg_u, deg_u)
        v = adjacency.indices[starts + offset].astype(np.int64)
        x_of = np.repeat(x, deg_u)
        gain_of = np.repeat(gain, deg_u)
        keep = ~is_end[v] & (v != x_of)
        codes, inverse = np.unique(v[keep] * big + x_of[keep], return_inverse=True)
        v, x_of = codes // big, codes % big
        # Through u, v reaches x now when u and x were joined, and reached it before when they
        # were parted: only the other way round needs looking at.
        via = np.bincount(inverse, weights=gain_of[keep], minlength=len(codes))
        joined_via = via > 0
        parted_via = np.bincount(inverse, minlength=len(codes)) > via
        reach_now, reach_then = joined_via.copy(), parted_via.copy()
        for reach, matrix in ((reach_now, None), (reach_then, change)):
            ask = np.flatnonzero(~reach)
            if not len(ask):
                continue
            direct = np.asarray(adjacency[v[ask], x_of[ask]]).ravel() != 0
            if matrix is None:
                meets = _rows_meet(adjacency, v[ask], adjacency, x_of[ask])
            else:
                # x's neighbours before, for the partners asked about (not a whole matrix again).
                xs, x_row = np.unique(x_of[ask], return_inverse=True)
                before = (adjacency[xs] + matrix[xs]).tocsr()
                before.eliminate_zeros()
                meets = _rows_meet(adjacency, v[ask], before, x_row.astype(np.int64))
            reach[ask] = direct | meets
        delta = np.bincount(v, weights=reach_now.astype(np.int64) - reach_then.astype(np.int64), minlength=big)
        out += delta[:n].astype(np.int64)
    return out, True


def place_new(lines: Lines, known: npt.NDArray[np.bool_], x: F64, y: F64, *, seed: int = SEED) -> tuple[F64, F64]:
    """Positions for nodes new to the map, keeping everyone else's: each new node goes near the
    mean of its placed neighbours (in a few rounds, so chains of new nodes follow), and the rest
    (new groups with no placed neighbour) on a spiral just outside the map."""
    x, y = x.copy(), y.copy()
    placed = known.copy()
    rng = np.random.default_rng(seed)
    # Only lines with an end not yet placed can place anything (placed ends stay placed): the
    # others are left out up front, in their order, so the sums are the same as over them all.
    near = ~placed[lines.src] | ~placed[lines.dst]
    ls, ld = lines.src[near], lines.dst[near]
    src = np.concatenate([ls, ld])
    dst = np.concatenate([ld, ls])
    for _ in range(4):
        if placed.all():
            break
        sel = ~placed[src] & placed[dst]
        if not sel.any():
            break
        count = np.bincount(src[sel], minlength=lines.n)
        sx = np.bincount(src[sel], weights=x[dst[sel]], minlength=lines.n)
        sy = np.bincount(src[sel], weights=y[dst[sel]], minlength=lines.n)
        now = np.flatnonzero(count > 0)
        jitter = rng.normal(0, 8, size=(len(now), 2))
        x[now] = sx[now] / count[now] + jitter[:, 0]
        y[now] = sy[now] / count[now] + jitter[:, 1]
        placed[now] = True
    rest = np.flatnonzero(~placed)
    if len(rest):
        span = max(float(np.abs(x[placed]).max(initial=0)), float(np.abs(y[placed]).max(initial=0)), 100.0)
        fx, fy = _sunflower(len(rest))
        angle = np.arctan2(fy, fx)
        radius = span * (1.05 + 0.1 * np.sqrt(fx**2 + fy**2))
        x[rest], y[rest] = radius * np.cos(angle), radius * np.sin(angle)
    return x, y


def rescore(lines: Lines, org_node: I64, previous: Previous, *, seed: int = SEED) -> Scores:
    """The daily update's scores: degrees, influence and organisations' ties counted again (cheap
    and exact), communities refined from the previous ones, two-step reach counted again only
    where it may have changed, brokerage kept (it is the costly one: exact again on small maps,
    0 for new nodes on large ones until the next full build), layout kept with new nodes placed
    near their neighbours."""
    degree, by_kind = degrees(lines)
    pr = pagerank(lines)
    has_org = (org_node >= 0) & person_mask(lines)
    pr_org = np.bincount(org_node[has_org], weights=pr[has_org], minlength=lines.n)
    is_org = lines.node_kind == KIND_CODE[NodeKind.ORGANIZATION]
    pr = np.where(is_org, pr_org, pr)
    bt = np.where(previous.known, previous.brokerage, 0.0)
    sampled = True
    sel = np.isin(lines.kind, PERSON_LINES)
    on = np.zeros(lines.n, dtype=bool)
    on[lines.src[sel]] = True
    on[lines.dst[sel]] = True
    active = np.flatnonzero(on)
    if len(active) <= BETWEENNESS_EXACT_NODES:
        bt, sampled = brokerage(lines, seed=seed)
    initial = np.where(previous.known, previous.community, -1)
    if previous.changed is not None and (initial >= 0).any():
        comm, count = communities_around(lines, initial, previous.changed, seed=seed)
    else:
        comm, count = communities(lines, seed=seed, initial=initial)
    comm = keep_numbers(comm, initial)
    # The pairs of people joined now, once: when they make the count an upper bound, that bound is
    # the answer whatever changed, and reach2_update (which would find as much) is skipped.
    pairs = person_pairs(lines)
    counted = reach2_update(lines, previous) if reach_exact(_pair_degree(lines.n, pairs)) else None
    reach, exact = counted if counted is not None else reach2(lines, pairs=pairs)
    internal, external = org_ties(lines, org_node)
    x, y = place_new(lines, previous.known, previous.x, previous.y, seed=seed)
    return Scores(
        pagerank=pr,
        brokerage=bt,
        community=comm,
        degree=degree,
        by_kind=by_kind,
        reach2=reach,
        internal=internal,
        external=external,
        x=x,
        y=y,
        communities=count,
        reach_exact=exact,
        betweenness_sampled=sampled and len(active) > BETWEENNESS_EXACT_NODES,
    )
