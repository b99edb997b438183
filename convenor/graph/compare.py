"""Comparing two stored maps: lines gained and lost by kind, rising and falling influence,
communities merged or split, newly bridged organisations. Reads the stored tables in bulk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.graph.build import KEY_SHIFT, KIND_CODE, LINE_CODE, LINE_ORDER
from convenor.graph.models import Line, LineKind, Map, MapStatus, Node, NodeKind

I64 = npt.NDArray[np.int64]
TOP = 10
# A community counts as split (or merged) when at least two parts each hold this share of it
# and at least MIN_PART people.
PART_SHARE = 0.2
MIN_PART = 2


def map_by_name(name: str) -> Map:
    """'current' (or empty) for the current map, else a snapshot's label. Raises NOT_FOUND."""
    name = (name or "").strip()
    if name.lower() in {"", "current"}:
        m = Map.objects.filter(label="", status=MapStatus.READY).order_by("-built_at").first()
        if m is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "The map has not been built yet; run `convenor map build`.")
        return m
    m = Map.objects.filter(label=name, status=MapStatus.READY).first()
    if m is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, f"There is no snapshot labelled '{name}'.")
    return m


@dataclass
class _Side:
    keys: I64  # node key by idx
    label: list[str]
    community: I64
    pagerank: npt.NDArray[np.float64]
    org: I64  # organisation id per idx, -1 when none
    line_kind: I64
    line_src: I64  # node keys
    line_dst: I64


def _load(m: Map) -> _Side:
    rows = list(
        Node.objects.filter(map=m)
        .order_by("idx")
        .values_list("idx", "kind", "ref_id", "label", "community", "pagerank", "org_id")
    )
    n = len(rows)
    keys = np.zeros(n, dtype=np.int64)
    community = np.full(n, -1, dtype=np.int64)
    pagerank = np.zeros(n)
    org = np.full(n, -1, dtype=np.int64)
    label = [""] * n
    for idx, node_kind, ref, lab, comm, pr, org_id in rows:
        keys[idx] = KIND_CODE[node_kind] * int(KEY_SHIFT) + ref
        label[idx] = lab
        community[idx] = -1 if comm is None else comm
        pagerank[idx] = pr
        org[idx] = -1 if org_id is None else org_id
    lines = np.array(list(Line.objects.filter(map=m).values_list("kind", "source", "target")), dtype=object)
    if len(lines):
        kind = np.array([LINE_CODE[k] for k in lines[:, 0]], dtype=np.int64)
        src, dst = keys[lines[:, 1].astype(np.int64)], keys[lines[:, 2].astype(np.int64)]
    else:
        kind = src = dst = np.empty(0, dtype=np.int64)
    # Undirected lines: the smaller key first, so the same line matches across maps.
    undirected = ~np.isin(kind, [LINE_CODE[LineKind.INFLUENCE], LINE_CODE[LineKind.PROSPECTING]])
    swap = undirected & (src > dst)
    src, dst = np.where(swap, dst, src), np.where(swap, src, dst)
    return _Side(keys, label, community, pagerank, org, kind, src, dst)


def _name(key: int) -> tuple[str, int]:
    code, ref = divmod(int(key), int(KEY_SHIFT))
    from convenor.graph.build import KIND_ORDER

    return str(KIND_ORDER[code]), ref


def compare(a: Map, b: Map) -> dict[str, Any]:
    """What changed from map `a` (earlier) to map `b` (later), as plain JSON-ready data."""
    A, B = _load(a), _load(b)

    # Lines gained and lost, by kind.
    rows = np.concatenate(
        [np.column_stack([A.line_kind, A.line_src, A.line_dst]), np.column_stack([B.line_kind, B.line_src, B.line_dst])]
    ).reshape(-1, 3)
    _, inv = np.unique(rows, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    ia, ib = inv[: len(A.line_kind)], inv[len(A.line_kind) :]
    gained = ~np.isin(ib, ia)
    lost = ~np.isin(ia, ib)
    lines = {
        str(k): {
            "before": int((A.line_kind == c).sum()),
            "after": int((B.line_kind == c).sum()),
            "gained": int((gained & (B.line_kind == c)).sum()),
            "lost": int((lost & (A.line_kind == c)).sum()),
        }
        for c, k in enumerate(LINE_ORDER)
    }

    # Influence of people and organisations on both maps (and the newcomers, from zero).
    pos_a = {int(k): i for i, k in enumerate(A.keys.tolist())}
    movers: list[dict[str, Any]] = []
    for j, key in enumerate(B.keys.tolist()):
        kind, ref = _name(key)
        if kind not in (NodeKind.MEMBER, NodeKind.ORGANIZATION):
            continue
        i = pos_a.get(key)
        before = float(A.pagerank[i]) if i is not None else 0.0
        movers.append({"kind": kind, "id": ref, "label": B.label[j], "before": before, "after": float(B.pagerank[j])})
    b_keys = set(B.keys.tolist())
    for i, key in enumerate(A.keys.tolist()):
        kind, ref = _name(key)
        if kind in (NodeKind.MEMBER, NodeKind.ORGANIZATION) and key not in b_keys:
            movers.append({"kind": kind, "id": ref, "label": A.label[i], "before": float(A.pagerank[i]), "after": 0.0})
    for mv in movers:
        mv["change"] = mv["after"] - mv["before"]
    people = [m for m in movers if m["kind"] == NodeKind.MEMBER]
    orgs = [m for m in movers if m["kind"] == NodeKind.ORGANIZATION]

    def top(items: list[dict[str, Any]], rising: bool) -> list[dict[str, Any]]:
        picked = sorted(items, key=lambda m: m["change"], reverse=rising)[:TOP]
        return [m for m in picked if (m["change"] > 0 if rising else m["change"] < 0)]

    return {
        "before": {"label": str(a), "window_from": a.window_from.isoformat(), "window_to": a.window_to.isoformat(),
                   "nodes": a.node_count, "lines": a.line_count, "communities": a.community_count},
        "after": {"label": str(b), "window_from": b.window_from.isoformat(), "window_to": b.window_to.isoformat(),
                  "nodes": b.node_count, "lines": b.line_count, "communities": b.community_count},
        "lines": lines,
        "people_rising": top(people, True),
        "people_falling": top(people, False),
        "organizations_rising": top(orgs, True),
        "organizations_falling": top(orgs, False),
        **_communities(A, B),
        "newly_bridged_organizations": _bridges(A, B),
    }  # fmt: skip


def _community_names(side: _Side) -> dict[int, str]:
    """Each community named after its most influential person (or node)."""
    names: dict[int, str] = {}
    order = np.argsort(-side.pagerank, kind="stable")
    people = int(KIND_CODE[NodeKind.MEMBER])
    for i in order.tolist():
        if int(side.keys[i]) // int(KEY_SHIFT) != people:
            continue
        c = int(side.community[i])
        if c >= 0 and c not in names:
            names[c] = side.label[i]
    return names


def _communities(A: _Side, B: _Side) -> dict[str, list[dict[str, Any]]]:
    people_code = KIND_CODE[NodeKind.MEMBER]
    a_people = {int(k): int(c) for k, c in zip(A.keys.tolist(), A.community.tolist(), strict=True)
                if k // int(KEY_SHIFT) == people_code and c >= 0}  # fmt: skip
    pairs = [(a_people[int(k)], int(c)) for k, c in zip(B.keys.tolist(), B.community.tolist(), strict=True)
             if int(k) in a_people and c >= 0]  # fmt: skip
    names_a, names_b = _community_names(A), _community_names(B)
    if not pairs:
        return {"communities_split": [], "communities_merged": []}
    arr = np.array(pairs, dtype=np.int64)
    combos, counts = np.unique(arr, axis=0, return_counts=True)
    size_a = {int(c): n for c, n in zip(*np.unique(arr[:, 0], return_counts=True), strict=True)}
    size_b = {int(c): n for c, n in zip(*np.unique(arr[:, 1], return_counts=True), strict=True)}
    split: dict[int, list[tuple[int, int]]] = {}
    merged: dict[int, list[tuple[int, int]]] = {}
    for (ca, cb), n in zip(combos.tolist(), counts.tolist(), strict=True):
        if n >= MIN_PART and n >= PART_SHARE * size_a[ca]:
            split.setdefault(ca, []).append((cb, n))
        if n >= MIN_PART and n >= PART_SHARE * size_b[cb]:
            merged.setdefault(cb, []).append((ca, n))
    return {
        "communities_split": [
            {"community": ca, "name": names_a.get(ca, ""), "people": int(size_a[ca]),
             "into": [{"community": cb, "name": names_b.get(cb, ""), "people": n} for cb, n in sorted(parts)]}
            for ca, parts in sorted(split.items()) if len(parts) >= 2
        ],
        "communities_merged": [
            {"community": cb, "name": names_b.get(cb, ""), "people": int(size_b[cb]),
             "from": [{"community": ca, "name": names_a.get(ca, ""), "people": n} for ca, n in sorted(parts)]}
            for cb, parts in sorted(merged.items()) if len(parts) >= 2
        ],
    }  # fmt: skip


def _org_pairs(side: _Side) -> dict[tuple[int, int], int]:
    """Pairs of different organisations joined by a line between their people."""
    sel = np.isin(side.line_kind, [LINE_CODE[LineKind.CONNECTION], LINE_CODE[LineKind.INFLUENCE],
                                   LINE_CODE[LineKind.PROSPECTING]])  # fmt: skip
    if not len(side.keys):
        return {}
    order = np.argsort(side.keys)
    keys_sorted = side.keys[order]

    def org_of(k: I64) -> I64:
        p = order[np.minimum(np.searchsorted(keys_sorted, k), len(keys_sorted) - 1)]
        return side.org[p]

    # Between people only: organisations' own declared lines are not their people meeting.
    people = int(KIND_CODE[NodeKind.MEMBER])
    sel &= (side.line_src // KEY_SHIFT == people) & (side.line_dst // KEY_SHIFT == people)
    oa, ob = org_of(side.line_src[sel]), org_of(side.line_dst[sel])
    ok = (oa >= 0) & (ob >= 0) & (oa != ob)
    lo, hi = np.minimum(oa[ok], ob[ok]), np.maximum(oa[ok], ob[ok])
    if not len(lo):
        return {}
    combos, counts = np.unique(np.column_stack([lo, hi]), axis=0, return_counts=True)
    return {(int(x), int(y)): int(n) for (x, y), n in zip(combos.tolist(), counts.tolist(), strict=True)}


def _bridges(A: _Side, B: _Side) -> list[dict[str, Any]]:
    from convenor.people.models import Organization

    before, after = _org_pairs(A), _org_pairs(B)
    new = sorted(((n, p) for p, n in after.items() if p not in before), reverse=True)[: TOP * 2]
    ids = {i for _, p in new for i in p}
    names = dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [{"organizations": [{"id": x, "name": names.get(x, f"#{x}")} for x in p], "lines": n} for n, p in new]
