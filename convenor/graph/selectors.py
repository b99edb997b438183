"""Reads of the map for other apps (hot groups, feedback, pages).

These four functions are the contract other apps rely on; their signatures stay as they are.
They read the stored results of the latest `map build` (never recompute the map).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from convenor.graph.models import Line as MapLine
from convenor.graph.models import LineKind, Map, MapStatus, Node, NodeKind

# Person-to-person lines, for the contract below.
_PERSON_KINDS = (LineKind.CONNECTION, LineKind.INFLUENCE)


@dataclass(frozen=True)
class NodeScore:
    """A person's standing on the latest map."""

    member_id: int
    pagerank: float  # weighted PageRank on influence lines (sums to 1 over people)
    brokerage: float  # betweenness, normalised to 0..1 over the map
    community: int | None  # Leiden community id, None when the person has no lines
    degree: int  # lines of any kind to other people


def current_map() -> Map | None:
    """The latest complete current map (not a snapshot), or None."""
    return Map.objects.filter(label="", status=MapStatus.READY).order_by("-built_at", "-id").first()


def map_built_at() -> datetime | None:
    """When the current map was last built or updated (its data last changed), or None if it
    never was built. Readers may key caches of its scores on it."""
    m = current_map()
    return m.refreshed_at if m else None


def node_scores(member_ids: Collection[int] | None = None) -> dict[int, NodeScore]:
    """Scores of the given people (all people on the map when None). People not on the map are absent."""
    m = current_map()
    if m is None:
        return {}
    qs = Node.objects.filter(map=m, kind=NodeKind.MEMBER)
    out: dict[int, NodeScore] = {}
    fields = ("ref_id", "pagerank", "brokerage", "community", "degree")
    if member_ids is None:
        rows = list(qs.values_list(*fields))
    else:
        ids = sorted({int(i) for i in member_ids})
        rows = []
        for lo in range(0, len(ids), 5_000):
            rows.extend(qs.filter(ref_id__in=ids[lo : lo + 5_000]).values_list(*fields))
    for ref, pr, br, comm, deg in rows:
        out[ref] = NodeScore(member_id=ref, pagerank=pr, brokerage=br, community=comm, degree=deg)
    return out


def _idx_of(m: Map, member_ids: Collection[int]) -> dict[int, int]:
    """Node positions of the given people on map `m`, as {idx: member id}."""
    ids = sorted({int(i) for i in member_ids})
    out: dict[int, int] = {}
    for lo in range(0, len(ids), 5_000):
        out.update(
            Node.objects.filter(map=m, kind=NodeKind.MEMBER, ref_id__in=ids[lo : lo + 5_000])
            .order_by()
            .values_list("idx", "ref_id")
        )
    return out


def connected_pairs(member_ids: Collection[int]) -> set[tuple[int, int]]:
    """Pairs (a, b) with a < b among `member_ids` joined by any person-to-person line
    (connection or influence, either direction) on the current map."""
    m = current_map()
    if m is None or not member_ids:
        return set()
    idx = _idx_of(m, member_ids)
    if len(idx) < 2:
        return set()
    keys = sorted(idx)
    pairs: set[tuple[int, int]] = set()
    # Look up by source only and keep the targets among the people here: an IN list on both
    # ends makes the database probe every (source, target) combination, which grows with
    # the square of the people asked about.
    for lo in range(0, len(keys), 2_000):
        chunk = keys[lo : lo + 2_000]
        rows = (
            MapLine.objects.filter(map=m, kind__in=_PERSON_KINDS, source__in=chunk)
            .order_by()
            .values_list("source", "target")
        )
        for s, t in rows:
            if t not in idx:
                continue
            a, b = idx[s], idx[t]
            pairs.add((a, b) if a < b else (b, a))
    return pairs


def _either_end(lines: QuerySet[Any, Any], ends: int | list[int]) -> QuerySet[Any, Any]:
    """The `lines` (of one map, unordered) with one of `ends` (a node position or a list of them)
    at either end: those from them, then those to them, for the caller to order, slice or count.

    Two look-ups joined by UNION ALL, so each walks its own index (graph_line_source_idx,
    graph_line_target_idx), on SQLite and PostgreSQL alike. Asked as `source = x OR target = x`,
    SQLite, which keeps no statistics here, walked one of those indexes over the whole map and
    tested every line (a second per look-up at 1.1M lines, docs/map.md). No line joins a node to
    itself (graph_line_no_self), so for a single node no line comes twice."""
    if isinstance(ends, int):
        return lines.filter(source=ends).union(lines.filter(target=ends), all=True)
    return lines.filter(source__in=ends).union(lines.filter(target__in=ends), all=True)


def node_lines(m: Map, idx: int, *, kind: str = "", hide_kinds: Collection[str] = ()) -> QuerySet[MapLine]:
    """The lines of map `m` at node `idx` (either end), of `kind` only when given and of none of
    `hide_kinds`, unordered. The result is a union: order it, slice it, count it or pick its
    columns (values_list), but filter before, through the arguments."""
    lines = MapLine.objects.filter(map=m).order_by()
    if kind:
        lines = lines.filter(kind=kind)
    if hide_kinds:
        lines = lines.exclude(kind__in=list(hide_kinds))
    return _either_end(lines, idx)


def neighbours(member_ids: Collection[int]) -> dict[int, set[int]]:
    """For each given person, the people one line away (any person-to-person line) on the current map."""
    m = current_map()
    if m is None or not member_ids:
        return {}
    idx = _idx_of(m, member_ids)
    out: dict[int, set[int]] = {mid: set() for mid in idx.values()}
    keys = sorted(idx)
    # The other ends by position (the unique index), keeping the people here: with the kind in
    # the query SQLite walks every person of the map (graph_node_rank_idx) for each batch.
    nodes_at = Node.objects.filter(map=m).order_by().values_list("idx", "ref_id", "kind")
    # `directed` is read only to keep the look-up off the unique index: (map, kind, source,
    # target) holds both ends, and SQLite without statistics would rather walk all of it for the
    # map than seek the source and target indexes and read each line (5x slower at 1.1M lines).
    lines = MapLine.objects.filter(map=m).order_by().values_list("source", "target", "directed")
    for lo in range(0, len(keys), 2_000):
        chunk = keys[lo : lo + 2_000]
        # A line with both ends in the chunk comes twice; the sets below keep it once.
        rows = [(s, t) for s, t, _ in _either_end(lines, chunk)]
        others = {t for s, t in rows if s in idx} | {s for s, t in rows if t in idx}
        ref: dict[int, int] = {}
        other_list = sorted(others)
        for olo in range(0, len(other_list), 5_000):
            batch = nodes_at.filter(idx__in=other_list[olo : olo + 5_000])
            ref.update((i, r) for i, r, kind in batch if kind == NodeKind.MEMBER)
        for s, t in rows:
            if s in idx and t in ref:
                out[idx[s]].add(ref[t])
            if t in idx and s in ref:
                out[idx[t]].add(ref[s])
    for mid, ns in out.items():
        ns.discard(mid)
    return out


def map_list() -> list[Map]:
    """The current map and every snapshot, newest first."""
    return list(Map.objects.filter(status=MapStatus.READY).order_by("-built_at", "-id"))


# --- what the pages and the API read ---------------------------------------------------------

LINE_KINDS = [str(k) for k in LineKind.values]
NODE_KINDS = [str(k) for k in NodeKind.values]
NODE_COLUMNS = ("idx", "kind", "ref_id", "label", "role", "org_id", "community", "pagerank", "brokerage",
                "degree", "x", "y")  # fmt: skip
LINE_COLUMNS = ("kind", "source", "target", "weight", "first_seen", "last_seen")
EGO_LINES = 400


def node_by_ref(m: Map, kind: str, ref_id: int) -> Node | None:
    return Node.objects.filter(map=m, kind=kind, ref_id=ref_id).first()


def _day(value: datetime | None) -> int:
    return -1 if value is None else int(value.timestamp() // 86_400)


def page_limits() -> tuple[int, int]:
    """How much of a map the map page draws at most: (nodes, lines). The page stays responsive
    at 50,000 nodes and 200,000 lines; a larger map is shown by its most connected nodes and the
    heaviest lines among them (CONVENOR_MAP_PAGE_NODES, CONVENOR_MAP_PAGE_LINES)."""
    return settings.MAP_PAGE_NODES, settings.MAP_PAGE_LINES


def _page_node_rows(m: Map) -> list[tuple[Any, ...]]:
    """The nodes the map page draws, by position: all of them, or the most connected (degree,
    then PageRank) when the map has more than page_limits() allows."""
    most, _ = page_limits()
    qs = Node.objects.filter(map=m)
    if m.node_count > most:
        picked = list(qs.order_by("-degree", "-pagerank", "idx").values_list(*NODE_COLUMNS)[:most])
        return sorted(picked, key=lambda r: r[0])
    return list(qs.order_by("idx").values_list(*NODE_COLUMNS))


def _whole_map_lines(m: Map, hide_kinds: Collection[str]) -> list[tuple[Any, ...]]:
    """The lines the map page draws as (kind, source, target, weight, first day, last day), days
    since the epoch (-1 when unknown) counted by the database: turning hundreds of thousands of
    stored times into datetimes and back took most of the cold page's time. On a map larger
    than page_limits(), only the lines between the nodes _page_node_rows picks, the heaviest
    first, up to the limit."""
    from convenor.graph.build import _epoch_sql

    most_nodes, most_lines = page_limits()
    day = "COALESCE({} / 86400, -1)"
    kinds = [k for k in LINE_KINDS if k not in set(hide_kinds)] or ["-"]
    columns = (
        f"l.kind, l.source, l.target, l.weight, {day.format(_epoch_sql('l.first_seen'))},"
        f" {day.format(_epoch_sql('l.last_seen'))}"
    )
    line_t, node_t = MapLine._meta.db_table, Node._meta.db_table
    where = f"l.map_id = %s AND l.kind IN ({', '.join(['%s'] * len(kinds))})"
    capped = m.node_count > most_nodes or m.line_count > most_lines
    if m.node_count > most_nodes:
        # The picked nodes once, then joined at both ends: with IN lists on both ends the
        # planner walks the unique index over every (kind, source, target) in their product.
        sql = (
            f"WITH picked(idx) AS MATERIALIZED (SELECT idx FROM {node_t} WHERE map_id = %s"  # noqa: S608  # fixed table and columns; values are parameters
            f" ORDER BY degree DESC, pagerank DESC, idx LIMIT %s) SELECT {columns} FROM picked a"
            f" JOIN {line_t} l ON l.source = a.idx JOIN picked b ON b.idx = l.target WHERE {where}"
        )
        params: list[Any] = [m.pk, most_nodes, m.pk, *kinds]
    else:
        sql = f"SELECT {columns} FROM {line_t} l WHERE {where}"  # noqa: S608  # fixed table and columns; values are parameters
        params = [m.pk, *kinds]
    if capped:
        sql += " ORDER BY l.weight DESC, l.kind, l.source, l.target LIMIT %s"
        params.append(most_lines)
    else:
        sql += " ORDER BY l.kind, l.source, l.target"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = list(cursor.fetchall())
    if capped:
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


def map_payload(
    m: Map,
    *,
    center: Node | None = None,
    visible: Callable[[str, list[int]], set[int]] | None = None,
    hide_kinds: Collection[str] = (),
    limit: int = EGO_LINES,
) -> dict[str, Any]:
    """The map (or, around `center`, its heaviest `limit` lines) as compact parallel arrays for
    the browser. `visible(kind, ids)` keeps only the ends the viewer may see."""
    line_rows: list[tuple[Any, ...]]
    if center is None:
        node_rows = _page_node_rows(m)
        line_rows = _whole_map_lines(m, hide_kinds)
    else:
        # Heaviest first; ties by the line's ends, so the cut at `limit` is always the same.
        around = list(
            node_lines(m, center.idx, hide_kinds=hide_kinds)
            .values_list(*LINE_COLUMNS)
            .order_by("-weight", "kind", "source", "target")[:limit]
        )
        around = [(k, a, b, w, _day(f), _day(last)) for k, a, b, w, f, last in around]
        ids = {center.idx} | {r[1] for r in around} | {r[2] for r in around}
        node_rows = list(Node.objects.filter(map=m, idx__in=sorted(ids)).order_by("idx").values_list(*NODE_COLUMNS))
        line_rows = around
    if visible is not None:
        allowed: set[int] = set()
        by_kind: dict[str, list[tuple[int, int]]] = {}
        for r in node_rows:
            by_kind.setdefault(r[1], []).append((r[0], r[2]))
        for kind, pairs in by_kind.items():
            ok = visible(kind, [ref for _, ref in pairs])
            allowed |= {idx for idx, ref in pairs if ref in ok}
        if center is not None:
            allowed.add(center.idx)
        node_rows = [r for r in node_rows if r[0] in allowed]
        line_rows = [r for r in line_rows if r[1] in allowed and r[2] in allowed]
    pos = {r[0]: i for i, r in enumerate(node_rows)}
    roles = sorted({r[4] for r in node_rows if r[1] == NodeKind.MEMBER and r[4]})
    role_pos = {r: i for i, r in enumerate(roles)}
    orgs_here = sorted({r[5] for r in node_rows if r[5] is not None})
    from convenor.people.models import Organization

    org_names: dict[int, str] = {}
    for lo in range(0, len(orgs_here), 5_000):
        org_names.update(Organization.objects.filter(pk__in=orgs_here[lo : lo + 5_000]).values_list("pk", "name"))
    if visible is not None:
        seen_orgs = visible("org", orgs_here)
        orgs_here = [o for o in orgs_here if o in seen_orgs]
    org_pos = {o: i for i, o in enumerate(orgs_here)}
    kind_pos = {k: i for i, k in enumerate(NODE_KINDS)}
    line_pos = {k: i for i, k in enumerate(LINE_KINDS)}
    names: dict[int, str] = {}
    for r in sorted(node_rows, key=lambda r: -r[7]):
        if r[6] is not None and r[6] not in names and r[1] == NodeKind.MEMBER:
            names[r[6]] = r[3]
    return {
        "map": {"label": str(m), "snapshot": m.label, "built_at": m.built_at.isoformat()},
        "window": [_day(m.window_from), _day(m.window_to)],
        "kinds": NODE_KINDS,
        "kindNames": {str(k): str(v) for k, v in NodeKind.choices},
        "lineKinds": LINE_KINDS,
        "lineKindNames": {str(k): str(v) for k, v in LineKind.choices},
        "directedKinds": [str(LineKind.INFLUENCE), str(LineKind.PROSPECTING)],
        "roles": roles,
        "orgs": [org_names.get(o, f"organisation #{o}") for o in orgs_here],
        "communityNames": {str(c): n for c, n in names.items()},
        "links": {"member": "/people/{id}/", "org": "/organizations/{id}/"},
        "focus": pos.get(center.idx) if center is not None else None,
        "nodes": {
            "label": [r[3] for r in node_rows],
            "kind": [kind_pos[r[1]] for r in node_rows],
            "ref": [r[2] for r in node_rows],
            "role": [role_pos.get(r[4], -1) if r[1] == NodeKind.MEMBER else -1 for r in node_rows],
            "org": [org_pos.get(r[5], -1) if r[5] is not None else -1 for r in node_rows],
            "community": [-1 if r[6] is None else r[6] for r in node_rows],
            "pr": np.round(np.array([r[7] for r in node_rows], dtype=np.float64), 7).tolist(),
            "br": np.round(np.array([r[8] for r in node_rows], dtype=np.float64), 4).tolist(),
            "deg": [r[9] for r in node_rows],
            "x": [r[10] for r in node_rows],
            "y": [r[11] for r in node_rows],
        },
        "lines": {
            "s": [pos[r[1]] for r in line_rows],
            "t": [pos[r[2]] for r in line_rows],
            "k": [line_pos[r[0]] for r in line_rows],
            "w": np.round(np.array([r[3] for r in line_rows], dtype=np.float64), 2).tolist(),
            "f": [r[4] for r in line_rows],
            "l": [r[5] for r in line_rows],
        },
    }


def map_nodes(
    m: Map,
    *,
    kind: str = "",
    role: str = "",
    organization: int | None = None,
    community: int | None = None,
    q: str = "",
    order: str = "-pagerank",
) -> QuerySet[Node]:
    """The map's nodes, filtered, most influential first (the API pages through them)."""
    qs = Node.objects.filter(map=m)
    if kind:
        qs = qs.filter(kind=kind)
    if role:
        qs = qs.filter(role=role)
    if organization is not None:
        qs = qs.filter(org_id=organization)
    if community is not None:
        qs = qs.filter(community=community)
    if q:
        qs = qs.filter(label__icontains=q)
    return qs.order_by(order, "idx")


def map_lines(m: Map, *, kind: str = "", node: int | None = None) -> QuerySet[MapLine]:
    """The map's lines (of `kind`, at node position `node` when given) in the order they were stored."""
    if node is not None:
        return node_lines(m, node, kind=kind).order_by("id")
    qs = MapLine.objects.filter(map=m)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("id")
