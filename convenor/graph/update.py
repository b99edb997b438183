"""The daily update's arithmetic: lines keyed by their ends, the stored map read back, the
lines an update touches, and node positions kept stable.

The update (services.update_map) never re-reads the whole activity log. It reads the stored
lines, the day's new activity, the slice of activity that slid out of the window, and the
declarations in force now. Lines the slid-out slice or a changed declaration touches are
rebuilt exactly from their remaining evidence (re-read for their people only); every other line
is the stored one plus what is new. All of it is numpy over arrays, never a loop over lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection

from convenor.core.arrays import sorted_unique
from convenor.graph import build
from convenor.graph.analytics import Scores
from convenor.graph.build import F64, I64, KIND_CODE, KIND_ORDER, LINE_ORDER, Lines, Raw
from convenor.graph.build import int_array as _i
from convenor.graph.models import DeclaredLine, Line, Map, Node, NodeKind

# A line's identity packed in one integer: kind, then both ends as positions in a shared list
# of node keys (30 bits each: maps of up to a billion nodes).
_END_BITS = np.int64(30)


@dataclass
class Keyed:
    """Lines named by their ends' node keys (undirected lines: the smaller key first)."""

    kind: I64
    a: I64
    b: I64
    weight: F64
    evidence: I64
    first: I64
    last: I64
    basis: I64

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, sel: npt.NDArray[np.bool_] | I64) -> Keyed:
        return Keyed(*(getattr(self, f)[sel] for f in _FIELDS))

    def ends(self) -> I64:
        return np.concatenate([self.a, self.b])


_FIELDS = ("kind", "a", "b", "weight", "evidence", "first", "last", "basis")


def keyed(lines: Lines) -> Keyed:
    """A folded bundle's lines by node key (fold orders undirected ends by key already)."""
    return Keyed(
        lines.kind, lines.keys[lines.src], lines.keys[lines.dst], lines.weight, lines.evidence, lines.first,
        lines.last, lines.basis,
    )  # fmt: skip


def concat(*parts: Keyed) -> Keyed:
    return Keyed(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


def empty() -> Keyed:
    e = np.empty(0, dtype=np.int64)
    return Keyed(e, e, e, np.empty(0), e, e, e, e)


def raw_of(*parts: Keyed) -> Raw:
    """Keyed lines as fold input: folding them adds weights and evidence, spans times, joins bases."""
    raw = Raw()
    for p in parts:
        raw.add(p.kind, p.a, p.b, p.weight, p.evidence, p.first, p.last, p.basis)
    return raw


def line_ids(lines: Keyed, universe: I64) -> I64:
    """Each line's identity as one integer; `universe` is the sorted node keys of every part compared."""
    pa, pb = np.split(locate(universe, np.concatenate([lines.a, lines.b])), [len(lines.a)])
    return (lines.kind.astype(np.int64, copy=False) << (2 * _END_BITS)) | (pa << _END_BITS) | pb


def locate(universe: I64, keys: I64) -> I64:
    """`np.searchsorted(universe, keys)` (as int64) for node keys, by table where it can: each
    kind's ids are a table's primary keys, mostly dense, so a key's place is read from an array
    indexed by its id rather than found by a binary search among a million keys (the declared
    part alone asks six million times an update). Keys not in `universe` are searched for."""
    out = np.full(len(keys), -1, dtype=np.int64)
    if not len(keys) or not len(universe) or universe[0] < 0 or keys.min() < 0:
        return np.searchsorted(universe, keys).astype(np.int64)
    u_kind = universe // build.KEY_SHIFT
    k_kind = keys // build.KEY_SHIFT
    bounds = np.searchsorted(u_kind, np.arange(int(max(u_kind[-1], k_kind.max())) + 2))
    for k in np.flatnonzero(np.bincount(k_kind)).tolist():
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if hi == lo:
            continue
        refs = universe[lo:hi] - np.int64(k) * build.KEY_SHIFT
        top = int(refs[-1])
        if top > 4 * (hi - lo) + (1 << 20):
            continue  # sparse ids (conduits' hashes): searched for below
        table = np.full(top + 1, -1, dtype=np.int64)
        table[refs] = np.arange(lo, hi, dtype=np.int64)
        sel = np.flatnonzero(k_kind == k)
        mine = keys[sel] - np.int64(k) * build.KEY_SHIFT
        inside = mine <= top
        out[sel[inside]] = table[mine[inside]]
    missing = np.flatnonzero(out < 0)
    if len(missing):
        out[missing] = np.searchsorted(universe, keys[missing])
    return out


def stored_line_ids(stored: Stored, universe: I64) -> I64:
    """`line_ids` of the stored lines, from their ends' stored positions: one search per node
    rather than two per line (`universe` holds every stored node)."""
    at = locate(universe, stored.node_keys)
    pa, pb = at[stored.line_src], at[stored.line_dst]
    swap = ~_DIRECTED[stored.lines.kind] & (pa > pb)
    pa, pb = np.where(swap, pb, pa), np.where(swap, pa, pb)
    return (stored.lines.kind.astype(np.int64, copy=False) << (2 * _END_BITS)) | (pa << _END_BITS) | pb


def universe_of(*parts: Keyed, extra: I64 | None = None) -> I64:
    keys = [p.ends() for p in parts]
    if extra is not None:
        keys.append(extra)
    u = sorted_unique(np.concatenate(keys)) if keys else np.empty(0, dtype=np.int64)
    if len(u) >= 1 << int(_END_BITS):
        raise ValueError("too many nodes for the daily update; run a full build")
    return u


def person_ends(lines: Keyed) -> I64:
    """The people at either end of the lines (every activity's actor is one of them)."""
    ends = lines.ends()
    people = ends[ends // build.KEY_SHIFT == KIND_CODE[NodeKind.MEMBER]]
    return sorted_unique(people % build.KEY_SHIFT)


# The node's whole-number scores, in the order Stored.counts holds them.
COUNT_COLUMNS = ("degree", "deg_connection", "deg_participation", "deg_influence", "deg_prospecting", "deg_channel",
                 "internal_ties", "external_ties")  # fmt: skip


@dataclass
class Stored:
    """The current map as stored: nodes by position, lines by key with their row ids, and the
    declared part its last build or update kept."""

    node_keys: I64  # by idx
    org_id: I64  # -1 when none
    community: I64  # -1 when none
    brokerage: F64
    reach2: I64
    x: F64
    y: F64
    pagerank: F64
    counts: npt.NDArray[np.int64]  # by COUNT_COLUMNS
    lines: Keyed
    line_row: I64  # graph_line.id per line
    line_src: I64  # stored node positions (as written)
    line_dst: I64
    declared: Keyed
    declared_row: I64  # graph_declaredline.id per declared line
    # The declarations' change log (graph_declaredchange) up to which the declared part is
    # known: -1 when not known (read from the database, or no log).
    declared_mark: int = -1


def _f(col: npt.NDArray[np.object_]) -> F64:
    return np.asarray(col, dtype=np.float64) if len(col) else np.empty(0, dtype=np.float64)


def load(m: Map, *, ends: bool = True) -> Stored:
    """Read the stored map back into arrays: from the arrays kept beside the database when they
    match the map, otherwise one query for the nodes and one per kind of line. Without `ends`,
    the lines' ends by key (`Stored.lines.a` and `.b`) may be left empty when read from the
    kept arrays: `stored_lines` makes them for the lines wanted."""
    cached = _read_cache(m, ends=ends)
    nodes = cached.nodes if cached is not None else _read_nodes(m)
    if cached is not None:
        lines, row, src_i, dst_i = cached.lines, cached.row, cached.src, cached.dst
    else:
        lines, row, src_i, dst_i = _read_lines(m, np.asarray(nodes["node_keys"], dtype=np.int64))
    mark = -1
    if cached is not None and cached.declared is not None:
        declared, declared_row = cached.declared
        mark = cached.declared_mark
    else:
        declared, declared_row = _read_declared(m)
    return Stored(
        node_keys=np.asarray(nodes["node_keys"], dtype=np.int64),
        org_id=np.asarray(nodes["org_id"], dtype=np.int64),
        community=np.asarray(nodes["community"], dtype=np.int64),
        brokerage=np.asarray(nodes["brokerage"], dtype=np.float64),
        reach2=np.asarray(nodes["reach2"], dtype=np.int64),
        x=np.asarray(nodes["x"], dtype=np.float64),
        y=np.asarray(nodes["y"], dtype=np.float64),
        pagerank=np.asarray(nodes["pagerank"], dtype=np.float64),
        counts=np.asarray(nodes["counts"], dtype=np.int64),
        lines=lines,
        line_row=row,
        line_src=src_i,
        line_dst=dst_i,
        declared=declared,
        declared_row=declared_row,
        declared_mark=mark,
    )


def _read_declared(m: Map) -> tuple[Keyed, I64]:
    decl_t = DeclaredLine._meta.db_table
    drow, dk, da, db, dw, de, df, dl, dbits = build.fetch_columns(
        f"SELECT id, kind, source_key, target_key, weight, evidence, first, last, basis FROM {decl_t}"  # noqa: S608  # fixed table names; values are parameters
        " WHERE map_id = %s",
        [m.pk],
        9,
    )
    return Keyed(_i(dk), _i(da), _i(db), _f(dw), _i(de), _i(df), _i(dl), _i(dbits)), _i(drow)


# Stored's node arrays, as the cache keeps them.
NODE_FIELDS = ("node_keys", "org_id", "community", "brokerage", "reach2", "x", "y", "pagerank", "counts")


def node_arrays(keys: I64, org_id: I64, scores: Scores) -> dict[str, npt.NDArray[np.generic]]:
    """The node figures exactly as written to the database (positions 0..n-1), as Stored holds them."""
    bk = scores.by_kind
    counts = np.column_stack([
        scores.degree, bk["connection"], bk["participation"], bk["influence"], bk["prospecting"], bk["channel"],
        scores.internal, scores.external,
    ]).astype(np.int64)  # fmt: skip
    return {
        "node_keys": keys.astype(np.int64),
        "org_id": np.where(org_id < 0, -1, org_id).astype(np.int64),
        "community": np.where(scores.community < 0, -1, scores.community).astype(np.int64),
        "brokerage": scores.brokerage.astype(np.float64),
        "reach2": scores.reach2.astype(np.int64),
        "x": np.round(scores.x, 2),
        "y": np.round(scores.y, 2),
        "pagerank": scores.pagerank.astype(np.float64),
        "counts": counts.reshape(len(keys), len(COUNT_COLUMNS)),
    }


def _read_nodes(m: Map) -> dict[str, npt.NDArray[np.generic]]:
    node_t = Node._meta.db_table
    idx, kind, ref, org, comm, brok, reach, x, y, pr, *counts = build.fetch_columns(
        f"SELECT idx, kind, ref_id, org_id, community, brokerage, reach2, x, y, pagerank,"  # noqa: S608  # fixed table names; values are parameters
        f" {', '.join(COUNT_COLUMNS)} FROM {node_t} WHERE map_id = %s ORDER BY idx",
        [m.pk],
        10 + len(COUNT_COLUMNS),
    )
    n = len(idx)
    if n and not np.array_equal(_i(idx), np.arange(n)):
        raise ValueError(f"the stored map {m.pk} has gaps in its node positions; run a full build")
    node_keys = np.empty(0, dtype=np.int64)
    if n:
        uniq, inv = np.unique(kind.astype(str), return_inverse=True)
        codes = np.array([KIND_CODE[str(k)] for k in uniq], dtype=np.int64)
        node_keys = codes[inv] * build.KEY_SHIFT + _i(ref)
    return {
        "node_keys": node_keys,
        "org_id": np.array([-1 if o is None else int(o) for o in org], dtype=np.int64),
        "community": np.array([-1 if c is None else int(c) for c in comm], dtype=np.int64),
        "brokerage": _f(brok),
        "reach2": _i(reach),
        "x": _f(x),
        "y": _f(y),
        "pagerank": _f(pr),
        "counts": np.column_stack([_i(c) for c in counts]) if n else np.zeros((0, len(COUNT_COLUMNS)), dtype=np.int64),
    }


def _read_lines(m: Map, node_keys: I64) -> tuple[Keyed, I64, I64, I64]:
    """The map's lines from the database (when the arrays kept beside it cannot be used), in one
    pass over them, the kind numbered in SQL, in the order of their identities (by kind, then
    by their ends' keys), as the kept arrays hold them."""
    line_t = Line._meta.db_table
    first_sql = build._epoch_sql("first_seen")
    last_sql = build._epoch_sql("last_seen")
    kind_sql = "".join(f" WHEN %s THEN {code}" for code in range(len(LINE_ORDER)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE kind{kind_sql} ELSE -1 END, id, source, target, weight, evidence,"  # noqa: S608  # fixed table names and placeholders; values are parameters
            f" COALESCE({first_sql}, -1), COALESCE({last_sql}, -1), basis FROM {line_t} WHERE map_id = %s",
            [*(str(k) for k in LINE_ORDER), m.pk],
        )
        rows = np.fromiter(cursor.cursor, dtype=_LINE_ROW_DTYPE)
    kind_a = np.ascontiguousarray(rows["kind"])
    if len(kind_a) and kind_a.min() < 0:
        raise ValueError(f"the stored map {m.pk} has lines of an unknown kind; run a full build")
    src_i, dst_i = np.ascontiguousarray(rows["source"]), np.ascontiguousarray(rows["target"])
    a, b = node_keys[src_i], node_keys[dst_i]
    undirected = ~np.isin(kind_a, list(build.DIRECTED_LINES))
    swap = undirected & (a > b)
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    order = np.lexsort((b, a, kind_a))
    lines = Keyed(
        kind_a[order], a[order], b[order], np.ascontiguousarray(rows["weight"])[order],
        np.ascontiguousarray(rows["evidence"])[order], np.ascontiguousarray(rows["first"])[order],
        np.ascontiguousarray(rows["last"])[order], np.ascontiguousarray(rows["basis"])[order],
    )  # fmt: skip
    return lines, np.ascontiguousarray(rows["id"])[order], src_i[order], dst_i[order]


_LINE_ROW_DTYPE = np.dtype([("kind", np.int64), ("id", np.int64), ("source", np.int64), ("target", np.int64),
                            ("weight", np.float64), ("evidence", np.int64), ("first", np.int64), ("last", np.int64),
                            ("basis", np.int64)])  # fmt: skip


def _cache_path(m: Map) -> Path:
    return Path(settings.DATA_DIR) / "map-cache" / f"lines-{m.pk}.npy"


def _stamp(m: Map) -> I64:
    """What a cache of the map's lines must match: the map, its watermark, window and counts."""
    return np.array(
        [m.pk, m.last_activity_id, int(m.window_to.timestamp() * 1_000_000), int(m.built_at.timestamp() * 1_000_000),
         m.line_count, m.node_count],
        dtype=np.int64,
    )  # fmt: skip


# What the cache holds, in this order, each column an array written by np.save: its format, the
# stamp, the lines' columns (their ends' keys are not kept: they follow from the nodes' keys and
# the positions), the nodes' and, when kept, the declared part's (a flag before them says) with
# the declarations' change log's mark after it.
_LINE_COLUMNS = ("row", "src", "dst", "kind", "weight", "evidence", "first", "last", "basis")
_DECLARED_COLUMNS = ("row", *_FIELDS)
_CACHE_VERSION = 4


def narrow(col: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A whole-number column in the narrowest type that holds its values (a kind fits a byte, a
    position four): less to write and read. Other columns as they are."""
    if col.dtype.kind != "i" or not col.size:
        return col
    lo, hi = int(col.min()), int(col.max())
    for t in (np.int8, np.int16, np.int32):
        if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max:
            return col.astype(t)
    return col


def widen(col: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A column read back, in int64 or float64 as the update computes."""
    return col.astype(np.float64 if col.dtype.kind == "f" else np.int64, copy=False)


def save_cache(
    m: Map,
    lines: Keyed,
    row: I64,
    src: I64,
    dst: I64,
    nodes: dict[str, npt.NDArray[np.generic]],
    declared: tuple[Keyed, I64] | None = None,
    declared_mark: int = -1,
) -> None:
    """Keep the map's lines, its nodes' figures and (when given) its declared part as arrays
    beside the database, so the next update need not read them back row by row. Written after
    the map's transaction, stamped; a cache whose stamp does not match the map is ignored (the
    map is then read from the database). One file of plain arrays, about 40 bytes a line: a
    zip of arrays (np.savez) took twice as long to write and to read."""
    path = _cache_path(m)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    columns: list[npt.NDArray[Any]] = [np.array([_CACHE_VERSION], dtype=np.int64), _stamp(m), row, src, dst]
    columns += [getattr(lines, k) for k in _LINE_COLUMNS[3:]]
    columns += [nodes[k] for k in NODE_FIELDS]
    columns.append(np.array([declared is not None]))
    if declared is not None:
        columns += [declared[1], *(getattr(declared[0], k) for k in _FIELDS), np.array([declared_mark])]
    with tmp.open("wb") as f:
        for col in columns:
            np.save(f, narrow(np.asarray(col)))
    tmp.replace(path)
    for other in path.parent.glob("lines-*.np[yz]"):
        if other != path:
            other.unlink(missing_ok=True)


def drop_cache(m: Map) -> None:
    _cache_path(m).unlink(missing_ok=True)


@dataclass
class Cached:
    lines: Keyed
    row: I64
    src: I64
    dst: I64
    nodes: dict[str, npt.NDArray[np.generic]]
    declared: tuple[Keyed, I64] | None  # the declared part and its row ids, when kept
    declared_mark: int = -1  # the declarations' change log it is up to date with (-1: unknown)


def _read_cache(m: Map, *, ends: bool = True) -> Cached | None:
    path = _cache_path(m)
    if not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            if widen(np.load(f)).tolist() != [_CACHE_VERSION] or not np.array_equal(widen(np.load(f)), _stamp(m)):
                return None
            # The lines' and the declared part's columns stay as narrow as kept (widening ten
            # million values a column cost more than reading them): what computes with them
            # (update.merge) makes its results wide.
            line = {k: np.load(f) for k in _LINE_COLUMNS}
            nodes = {k: widen(np.load(f)) for k in NODE_FIELDS}
            declared, mark = None, -1
            if bool(np.load(f)[0]):
                decl = {k: np.load(f) for k in _DECLARED_COLUMNS}
                declared = (Keyed(*(decl[k] for k in _FIELDS)), decl["row"])
                mark = int(np.load(f)[0])
    except (OSError, ValueError, KeyError, EOFError, IndexError):
        return None
    row, src, dst = line["row"], line["src"], line["dst"]
    if len(row) != m.line_count or (len(src) and int(max(src.max(), dst.max())) >= m.node_count):
        return None
    if any(len(v) != m.node_count for v in nodes.values()):
        return None
    # The lines' ends by key, from the nodes' keys (undirected lines: the smaller key first).
    kind = line["kind"]
    a, b = _ends(nodes["node_keys"], kind, src, dst) if ends else (np.empty(0, dtype=np.int64),) * 2
    lines = Keyed(kind, a, b, *(line[k] for k in _LINE_COLUMNS[4:]))
    return Cached(lines, row, src, dst, nodes, declared, mark)


def _ends(node_keys: I64, kind: I64, src: I64, dst: I64) -> tuple[I64, I64]:
    a, b = node_keys[src], node_keys[dst]
    swap = ~_DIRECTED[kind] & (a > b)
    return np.where(swap, b, a), np.where(swap, a, b)


def stored_lines(stored: Stored, at: I64) -> Keyed:
    """The stored lines `at`, with their ends by key (made here: `load` may leave them out)."""
    kind = stored.lines.kind[at]
    a, b = _ends(stored.node_keys, kind, stored.line_src[at], stored.line_dst[at])
    return Keyed(kind, a, b, *(getattr(stored.lines, f)[at] for f in _FIELDS[3:]))


def same_values(a: Keyed, b: Keyed) -> npt.NDArray[np.bool_]:
    """Element-wise: do two aligned sets of lines carry the same figures?"""
    same: npt.NDArray[np.bool_] = (
        np.isclose(a.weight, b.weight, rtol=0, atol=1e-9)
        & (a.evidence == b.evidence)
        & (a.first == b.first)
        & (a.last == b.last)
        & (a.basis == b.basis)
    )
    return same


# By line kind code: is the kind directed (a look-up, cheaper than np.isin over millions of lines).
_DIRECTED = np.isin(np.arange(len(LINE_ORDER)), list(build.DIRECTED_LINES))


class Sorted:
    """Ids sorted once, so that many look-ups among them cost a binary search each."""

    def __init__(self, ids: I64) -> None:
        # Ids already ascending (the stored lines' identities, as the kept arrays hold them) are
        # their own index: no sort of millions, no copy.
        self.order: I64 | None = None if _ascending(ids) else np.argsort(ids, kind="stable")
        self.sorted = ids if self.order is None else ids[self.order]

    def find(self, ids: I64) -> tuple[npt.NDArray[np.bool_], I64]:
        """For each id, whether it is among the sorted ones and where (its index in the original)."""
        if not len(self.sorted):
            return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.int64)
        pc = np.minimum(np.searchsorted(self.sorted, ids), len(self.sorted) - 1)
        return self.sorted[pc] == ids, pc.astype(np.int64, copy=False) if self.order is None else self.order[pc]


def among(values: I64, ascending: I64) -> npt.NDArray[np.bool_]:
    """`np.isin(values, ascending)` for an ascending array of distinct integers, by a binary search
    each (np.isin sorts both arrays together: millions of the update's line ids each time)."""
    if not len(ascending):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ascending, values), len(ascending) - 1)
    found: npt.NDArray[np.bool_] = ascending[at] == values
    return found


def match(ids: I64, other: I64) -> tuple[npt.NDArray[np.bool_], I64]:
    """For each id, whether `other` holds it and where (`other` need not be sorted)."""
    return Sorted(other).find(ids)


@dataclass
class Merged:
    """The updated map's lines, with each line's identity and the stored line it is (-1: new)."""

    lines: build.Lines
    ids: I64  # line_ids over the update's universe, ascending
    stored_at: I64  # index in Stored.lines, or -1
    # The lines that may carry other figures than their stored line (new ones, and those the new
    # parts added into), ascending; every other line carries its stored line's figures.
    touched: I64


def merge(stored: Keyed, ids_stored: I64, keep: npt.NDArray[np.bool_], universe: I64, *new: Keyed) -> Merged:
    """The lines `build.fold` would make of the kept stored lines and the new parts, without
    sorting a million stored lines again: the new parts (a day's worth) are folded on their own,
    added into the stored lines with the same identity, and the rest put in their places; since
    an identity orders by (kind, first end, second end), that is fold's order. Like fold, lines
    left with no weight are dropped. The stored columns may be narrow (as the kept arrays hold
    them): a merged column stays as narrow where its values fit, otherwise it is int64."""
    small = keyed(build.fold(raw_of(*new), keep_weightless=True))
    small_ids = line_ids(small, universe)
    if not (_ascending(ids_stored) and _ascending(small_ids)):
        return _merge_by_sorting(stored, ids_stored, keep, universe, small, small_ids)
    # The stored lines kept in their identities' order (as the arrays kept beside the database
    # hold them) and the day's lines too: each column is made in one pass, a gather of the kept
    # stored lines with the new lines' places left for them, rather than a pass per step.
    n = len(ids_stored)
    at = np.minimum(np.searchsorted(ids_stored, small_ids), max(n - 1, 0))
    hit = (ids_stored[at] == small_ids) & keep[at] if n else np.zeros(len(small_ids), dtype=bool)
    add = np.flatnonzero(~hit)
    at_kept = np.flatnonzero(keep)
    # A new line goes before the first kept stored line of a greater identity.
    k = np.searchsorted(at_kept, np.searchsorted(ids_stored, small_ids[add]))
    goes = k + np.arange(len(add))
    came = np.insert(at_kept, k, -1)
    # The slots of the kept stored lines the day's lines add into: after the new lines before them.
    j = np.flatnonzero(hit)
    rank = np.searchsorted(at_kept, at[j])
    into = rank + np.searchsorted(k, rank, side="right")
    source = np.maximum(came, 0)

    def column(name: str, wide: type[np.generic]) -> npt.NDArray[Any]:
        # A narrow column stays narrow when what the day brings fits (widening ten million values
        # costs as much as the gather): sums of evidence and joined bases are bounded here.
        col, day = getattr(stored, name), getattr(small, name)
        dtype = col.dtype if n else np.dtype(wide)
        if dtype.kind == "i" and dtype != wide and len(day):
            lo, hi = int(day.min()), int(day.max())
            if name == "evidence":
                lo, hi = min(lo, lo + int(col.min())), max(hi, hi + int(col.max()))
            elif name == "basis":
                lo, hi = min(lo, int(col.min())), (1 << max(hi, int(col.max())).bit_length()) - 1
            if lo < np.iinfo(dtype).min or hi > np.iinfo(dtype).max:
                dtype = np.dtype(wide)
        out = col[source].astype(dtype, copy=False) if n else np.empty(len(came), dtype=dtype)
        out[goes] = day[add]
        return out

    kind, weight, evidence = column("kind", np.int64), column("weight", np.float64), column("evidence", np.int64)
    first, last, basis = column("first", np.int64), column("last", np.int64), column("basis", np.int64)
    if len(j):
        weight[into] += small.weight[j]
        evidence[into] += small.evidence[j]
        f_old, f_new = first[into], small.first[j]
        first[into] = np.where(f_old < 0, f_new, np.where(f_new < 0, f_old, np.minimum(f_old, f_new)))
        last[into] = np.maximum(last[into], small.last[j])
        basis[into] |= small.basis[j]
    ids = ids_stored[source] if n else np.empty(len(came), dtype=np.int64)
    ids[goes] = small_ids[add]
    both = Keyed(kind, kind, kind, weight, evidence, first, last, basis)  # ends follow from the ids
    touched = np.sort(np.concatenate([goes, into]))
    real = weight > 0
    if not real.all():
        both, ids, came = both.take(real), ids[real], came[real]
        touched = (np.cumsum(real) - 1)[touched[real[touched]]]
    return _merged(both, ids, came, universe, touched)


def _merge_by_sorting(stored: Keyed, ids_stored: I64, keep: npt.NDArray[np.bool_], universe: I64, small: Keyed,
                      small_ids: I64) -> Merged:  # fmt: skip
    """`merge` when the stored lines or the day's are not in their identities' order: appended, then sorted."""
    at_kept = np.flatnonzero(keep)
    kept_ids = ids_stored[at_kept]
    hit, at = Sorted(kept_ids).find(small_ids)
    # Wide copies of the kept lines (their ends by key are not needed: they follow from the ids).
    wide = {f: np.float64 if f == "weight" else np.int64 for f in _FIELDS}
    kept = Keyed(*(getattr(stored, "kind" if f in ("a", "b") else f)[at_kept].astype(wide[f]) for f in _FIELDS))
    if hit.any():
        i, j = at[hit], np.flatnonzero(hit)
        kept.weight[i] += small.weight[j]
        kept.evidence[i] += small.evidence[j]
        f_old, f_new = kept.first[i], small.first[j]
        kept.first[i] = np.where(f_old < 0, f_new, np.where(f_new < 0, f_old, np.minimum(f_old, f_new)))
        kept.last[i] = np.maximum(kept.last[i], small.last[j])
        kept.basis[i] |= small.basis[j]
    add = ~hit
    both = concat(kept, small.take(add))
    ids = np.concatenate([kept_ids, small_ids[add]])
    came = np.concatenate([at_kept, np.full(int(add.sum()), -1, dtype=np.int64)])
    real = both.weight > 0
    order = np.flatnonzero(real)[np.argsort(ids[real], kind="stable")]
    return _merged(both.take(order), ids[order], came[order], universe, np.arange(len(order)))


def _merged(both: Keyed, ids: I64, came: I64, universe: I64, touched: I64) -> Merged:
    """The merged lines (in their identities' order) as fold gives them: nodes numbered over
    those the lines touch."""
    pa, pb = (ids >> _END_BITS) & ((1 << _END_BITS) - 1), ids & ((1 << _END_BITS) - 1)
    used = np.zeros(len(universe), dtype=bool)
    used[pa] = True
    used[pb] = True
    remap = np.cumsum(used) - 1
    lines = build.Lines(
        keys=universe[used], kind=both.kind, src=remap[pa], dst=remap[pb], weight=both.weight,
        evidence=both.evidence, first=both.first, last=both.last, basis=both.basis,
    )  # fmt: skip
    return Merged(lines, ids, came, touched)


def _ascending(ids: I64) -> bool:
    return bool(len(ids) < 2 or (ids[1:] > ids[:-1]).all())


def positions(old_keys: I64, new_keys: I64) -> I64:
    """Node positions on the updated map, for `new_keys` (sorted): nodes still there keep theirs,
    new nodes fill the places of nodes gone, and if more went than came, the last ones move
    down so the positions stay 0..n-1."""
    n = len(new_keys)
    hit, where = match(new_keys, old_keys)
    pos = np.full(n, -1, dtype=np.int64)
    pos[hit] = where[hit]
    used = np.zeros(max(len(old_keys), n), dtype=bool)
    used[pos[hit]] = True
    free = np.flatnonzero(~used[:n])
    need = np.concatenate([np.flatnonzero(hit & (pos >= n)), np.flatnonzero(~hit)])
    pos[need] = free
    return pos


def node_kinds(keys: I64) -> list[str]:
    return [KIND_ORDER[k] for k in (keys // build.KEY_SHIFT).tolist()]
