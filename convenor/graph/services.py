"""Writes of the map: building the current map, keeping snapshots, deleting them.

A build reads everything it needs in bulk, scores it in memory, then writes the whole map in
one transaction: readers see the previous map until the new one is complete, and a failed
build leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.graph import analytics, build
from convenor.graph.models import Line, Map, MapStatus, Node
from convenor.people.models import Member

Progress = Callable[[int, int], None]
MAX_WINDOW_DAYS = 36_500
LABEL_MAX = 60
RESERVED_LABELS = frozenset({"current"})
PHASES = ("gather", "fold", "describe", "analytics", "store")


@dataclass
class MapBuildResult:
    """What a build made: the stored map and its figures."""

    map: Map
    nodes: int
    lines: int
    communities: int
    seconds: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    lines_by_kind: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v:,}" for k, v in self.lines_by_kind.items() if v)
        head = (
            f"Built {self.map}: {self.nodes:,} nodes, {self.lines:,} lines"
            f"{' (' + kinds + ')' if kinds else ''}, {self.communities:,} communities"
            f" in {sum(self.seconds.values()):.1f}s."
        )
        return "\n".join([head, *(f"Note: {w}" for w in self.warnings)])


def build_map(
    *,
    window_days: int = 365,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> MapBuildResult:
    """Build the current map from the last `window_days` days and replace the previous one.

    Raises ApplicationError(VALIDATION) for a window out of range, an empty community or a
    window with nothing to map.
    """
    if not isinstance(window_days, int) or not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise invalid(f"The window must be between 1 and {MAX_WINDOW_DAYS:,} days.", window=str(window_days))
    end = now or timezone.now()
    return _build(start=end - timedelta(days=window_days), end=end, label="", progress=progress)


def snapshot_create(
    *,
    label: str,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> MapBuildResult:
    """Build and keep a map of [start, end] under `label` (default: the 365 days up to now).

    Raises ApplicationError(DUPLICATE) when the label is taken, VALIDATION for a bad label
    or window.
    """
    label = snapshot_label_check(label)
    end = end or timezone.now()
    start = start or end - timedelta(days=365)
    if start >= end:
        raise invalid("The snapshot's start must come before its end.", start=str(start.date()))
    return _build(start=start, end=end, label=label, progress=progress)


def snapshot_label_check(label: str) -> str:
    label = (label or "").strip()
    if not label:
        raise invalid("A snapshot needs a label, such as 2026.", label="empty")
    if len(label) > LABEL_MAX:
        raise invalid(f"A snapshot label has at most {LABEL_MAX} characters.", label=label[:LABEL_MAX])
    if label.lower() in RESERVED_LABELS:
        raise invalid(f"'{label}' names the current map; pick another label.", label=label)
    if Map.objects.filter(label=label).exists():
        raise ApplicationError(
            ErrorCode.DUPLICATE,
            f"A snapshot labelled '{label}' exists already; pick another label or delete it first.",
            fields={"label": [label]},
        )
    return label


def snapshot_delete(*, label: str) -> None:
    """Delete a snapshot. Raises ApplicationError(NOT_FOUND) when there is none of that label."""
    found = Map.objects.filter(label=label).first() if label else None
    if found is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, f"There is no snapshot labelled '{label}'.")
    with transaction.atomic():
        _delete_maps([found.pk])


def _delete_maps(ids: Sequence[int]) -> None:
    # Lines and nodes first, each in one statement: the map's cascade would otherwise
    # collect millions of rows in Python.
    Line.objects.filter(map_id__in=ids)._raw_delete(Line.objects.db)
    Node.objects.filter(map_id__in=ids)._raw_delete(Node.objects.db)
    Map.objects.filter(pk__in=ids).delete()


def _build(*, start: datetime, end: datetime, label: str, progress: Progress | None) -> MapBuildResult:
    tick = progress or (lambda done, total: None)
    total = len(PHASES)
    seconds: dict[str, float] = {}
    warnings: list[str] = []
    if not Member.objects.exists():
        raise invalid("The community is empty: add members (or build the demo) before building the map.")

    t = time.perf_counter()
    tick(0, total)
    weights = build.verb_weights()
    raw = build.gather(start=start, end=end, weights=weights)
    seconds["gather"] = time.perf_counter() - t
    tick(1, total)

    t = time.perf_counter()
    lines = build.fold(raw)
    seconds["fold"] = time.perf_counter() - t
    tick(2, total)
    if lines.self_loops:
        warnings.append(f"left out {lines.self_loops:,} self-loops (people or organisations linked to themselves).")
    if len(lines.kind) == 0:
        raise invalid(
            f"Nothing to map between {start:%Y-%m-%d} and {end:%Y-%m-%d}: no activity, declared relationships"
            " or affiliations in that window. Widen the window (--window DAYS) or record some activity first.",
            window=f"{start:%Y-%m-%d}..{end:%Y-%m-%d}",
        )
    from convenor.activity.models import Activity

    if not Activity.objects.filter(occurred_at__gte=start, occurred_at__lte=end).exists():
        warnings.append(
            f"no activity between {start:%Y-%m-%d} and {end:%Y-%m-%d}: the map holds declared relationships and"
            " affiliations only."
        )

    t = time.perf_counter()
    info = build.describe(lines)
    org_node = _org_nodes(lines, info.org_id)
    seconds["describe"] = time.perf_counter() - t
    tick(3, total)

    t = time.perf_counter()
    scores = analytics.score(lines, org_node)
    seconds["analytics"] = time.perf_counter() - t
    tick(4, total)
    if scores.betweenness_sampled:
        warnings.append("brokerage estimated from a sample of sources (large map).")
    if not scores.reach_exact:
        warnings.append("two-step reach is an upper bound on this map (very busy hubs).")

    t = time.perf_counter()
    last_id = _last_activity_id()
    with transaction.atomic():
        m = Map.objects.create(
            label=label,
            window_from=start,
            window_to=end,
            weights=weights,
            node_count=lines.n,
            line_count=len(lines.kind),
            community_count=scores.communities,
            last_activity_id=last_id,
            status=MapStatus.BUILDING,
        )
        _store(m, lines, info, scores)
        seconds["store"] = time.perf_counter() - t
        m.status = MapStatus.READY
        m.seconds = {k: round(v, 3) for k, v in seconds.items()}
        m.built_at = timezone.now()
        m.save(update_fields=["status", "seconds", "built_at"])
        if not label:
            old = list(Map.objects.filter(label="").exclude(pk=m.pk).values_list("pk", flat=True))
            if old:
                _delete_maps(old)
    tick(5, total)
    by_kind = {str(k): int((lines.kind == i).sum()) for i, k in enumerate(build.LINE_ORDER)}
    return MapBuildResult(
        map=m,
        nodes=lines.n,
        lines=len(lines.kind),
        communities=scores.communities,
        seconds=seconds,
        warnings=warnings,
        lines_by_kind=by_kind,
    )


def _last_activity_id() -> int:
    from convenor.activity.models import Activity

    last = Activity.objects.order_by("-pk").values_list("pk", flat=True).first()
    return int(last or 0)


def _org_nodes(lines: build.Lines, org_id: build.I64) -> build.I64:
    """Each node's organisation as a node position (-1 when the organisation is not on the map)."""
    org_code = build.KIND_CODE["org"]
    keys = np.where(org_id >= 0, np.int64(org_code) * build.KEY_SHIFT + org_id, -1)
    pos = np.searchsorted(lines.keys, keys)
    pos_c = np.minimum(pos, max(lines.n - 1, 0))
    found = (keys >= 0) & (lines.keys[pos_c] == keys) if lines.n else np.zeros(0, dtype=bool)
    return np.where(found, pos_c, -1).astype(np.int64)


def _epoch_to_dt(values: Iterable[int]) -> list[datetime | None]:
    return [None if v < 0 else datetime.fromtimestamp(v, tz=UTC) for v in values]


def _store(m: Map, lines: build.Lines, info: build.NodeInfo, scores: analytics.Scores) -> None:
    n = lines.n
    kinds = [build.KIND_ORDER[k] for k in lines.node_kind.tolist()]
    org = [None if o < 0 else o for o in info.org_id.tolist()]
    comm = [None if c < 0 else c for c in scores.community.tolist()]
    bk = scores.by_kind
    node_cols = (
        "map_id", "idx", "kind", "ref_id", "label", "role", "org_id", "community", "pagerank", "brokerage",
        "degree", "deg_connection", "deg_participation", "deg_influence", "deg_prospecting", "deg_channel",
        "reach2", "internal_ties", "external_ties", "x", "y",
    )  # fmt: skip
    node_rows = zip(
        [m.pk] * n,
        range(n),
        kinds,
        lines.node_ref.tolist(),
        [s[:200] for s in info.label],
        info.role,
        org,
        comm,
        scores.pagerank.tolist(),
        scores.brokerage.tolist(),
        scores.degree.tolist(),
        bk["connection"].tolist(),
        bk["participation"].tolist(),
        bk["influence"].tolist(),
        bk["prospecting"].tolist(),
        bk["channel"].tolist(),
        scores.reach2.tolist(),
        scores.internal.tolist(),
        scores.external.tolist(),
        np.round(scores.x, 2).tolist(),
        np.round(scores.y, 2).tolist(),
        strict=True,
    )
    bulk_insert(Node._meta.db_table, node_cols, node_rows)
    e = len(lines.kind)
    line_cols = (
        "map_id", "kind", "source", "target", "directed", "weight", "first_seen", "last_seen", "evidence", "basis"
    )  # fmt: skip
    line_rows = zip(
        [m.pk] * e,
        [build.LINE_ORDER[k] for k in lines.kind.tolist()],
        lines.src.tolist(),
        lines.dst.tolist(),
        np.isin(lines.kind, list(build.DIRECTED_LINES)).tolist(),
        np.round(lines.weight, 4).tolist(),
        _epoch_to_dt(lines.first.tolist()),
        _epoch_to_dt(lines.last.tolist()),
        lines.evidence.tolist(),
        lines.basis.tolist(),
        strict=True,
    )
    bulk_insert(Line._meta.db_table, line_cols, line_rows)


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[object]], *, chunk: int = 20_000) -> int:
    """Insert many rows fast: COPY on PostgreSQL, executemany in chunks on SQLite."""
    count = 0
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608  # fixed table names and placeholders; values are parameters
        batch: list[Any] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
