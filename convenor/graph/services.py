"""Writes of the map: building the current map, keeping snapshots, deleting them.

A build reads everything it needs in bulk, scores it in memory, then writes the whole map in
one transaction: readers see the previous map until the new one is complete, and a failed
build leaves nothing behind.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.utils import timezone

from convenor.core.arrays import sorted_unique
from convenor.core.bulk import sqlite_pragma
from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.graph import analytics, build, update
from convenor.graph.models import DeclaredChange, DeclaredLine, Line, LineKind, Map, MapStatus, Node, NodeKind
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
    updated: bool = False  # a daily update rather than a full build
    lines_changed: int = 0  # lines the update wrote (new or changed)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v:,}" for k, v in self.lines_by_kind.items() if v)
        changed = f"{self.lines_changed:,} line{'' if self.lines_changed == 1 else 's'} new or changed"
        verb = f"Updated the current map ({changed})" if self.updated else "Built"
        head = (
            f"{verb} {'' if self.updated else self.map}".rstrip() + f": {self.nodes:,} nodes, {self.lines:,} lines"
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
    for model in (Line, DeclaredLine, Node):
        if _holds_only(model._meta.db_table, ids):
            # Every row of the table is one of these maps' (no snapshot kept): on SQLite a DELETE
            # without WHERE frees the table's and its indexes' pages whole (its "truncate
            # optimisation") instead of taking out each row and its index entries one by one.
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608  # fixed table name
        else:
            model.objects.filter(map_id__in=ids)._raw_delete(model.objects.db)
    Map.objects.filter(pk__in=ids).delete()


def _holds_only(table: str, ids: Sequence[int]) -> bool:
    """On SQLite, whether every row of `table` (graph_line, graph_declaredline or graph_node)
    belongs to one of the maps `ids`: its lowest and highest map ids (read off the ends of its
    unique index, which starts with the map) are among them, and no other map lies between."""
    if connection.vendor != "sqlite" or not ids:
        return False
    with connection.cursor() as cursor:
        # Each end in a subquery of its own: SQLite reads a lone MIN or MAX off the index's end,
        # but both in one query scan the whole index.
        cursor.execute(f"SELECT (SELECT MIN(map_id) FROM {table}), (SELECT MAX(map_id) FROM {table})")  # noqa: S608  # fixed table name
        lo, hi = cursor.fetchone()
    if lo is None:
        return True
    return (
        int(lo) in ids
        and int(hi) in ids
        and not Map.objects.filter(pk__gte=lo, pk__lte=hi).exclude(pk__in=list(ids)).exists()
    )


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
    # The watermark first, and only rows up to it: a row recorded while the build runs is the
    # next update's, never counted twice or missed.
    last_id = _last_activity_id()
    declared_mark = _declared_mark()  # before the declarations are read, as the activity's watermark
    raw = build.gather_activity(build.Slice(start=start, end=end, max_id=last_id), weights)
    declared = build.gather_declared(build.Raw(), start=start, end=end)
    for name in ("kind", "src", "dst", "weight", "count", "first", "last", "basis"):
        getattr(raw, name).extend(getattr(declared, name))
    seconds["gather"] = time.perf_counter() - t
    tick(1, total)

    t = time.perf_counter()
    lines = build.fold(raw)
    # The declared part on its own, kept with the current map for the daily update.
    declared_lines = update.keyed(build.fold(declared, keep_weightless=True)) if not label else update.empty()
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
    m = _write_build(
        Map(
            label=label,
            window_from=start,
            window_to=end,
            weights=weights,
            node_count=lines.n,
            line_count=len(lines.kind),
            community_count=scores.communities,
            last_activity_id=last_id,
            updatable=not label,
            status=MapStatus.BUILDING,
        ),
        lines, info, scores, declared_lines, seconds, t, declared_mark,
    )  # fmt: skip
    tick(5, total)
    by_kind = _count_by_kind(lines.kind)
    return MapBuildResult(
        map=m,
        nodes=lines.n,
        lines=len(lines.kind),
        communities=scores.communities,
        seconds=seconds,
        warnings=warnings,
        lines_by_kind=by_kind,
    )


def _write_build(
    m: Map,
    lines: build.Lines,
    info: build.NodeInfo,
    scores: analytics.Scores,
    declared_lines: update.Keyed,
    seconds: dict[str, float],
    started: float,
    declared_mark: int = -1,
) -> Map:
    """Write a full build's map in one transaction (readers see the previous map until it
    commits), replacing the previous current map when it is one, then keep its arrays beside the
    database. Its store time goes into `seconds` (from `started`)."""
    # Outside any transaction (as the commands, pages and API call it), SQLite's foreign key checks
    # are off while the build writes: every row names the map it has just made, and each check is
    # a look-up per row (Django's fixture loading does the same).
    with connection.constraint_checks_disabled(), transaction.atomic(), sqlite_pragma("cache_size", -BUILD_CACHE_KIB):
        m.save(force_insert=True)
        old = [] if m.label else list(Map.objects.filter(label="").exclude(pk=m.pk).values_list("pk", flat=True))
        # The old map goes first, so its pages are free for the new one's rows.
        others = _lines_kept(besides=[*old, m.pk])
        other_nodes = int(sum(Map.objects.exclude(pk__in=[*old, m.pk]).values_list("node_count", flat=True)))
        node_t, line_t = Node._meta.db_table, Line._meta.db_table
        # The nodes' indexes by reference and by influence too (their unique index by position
        # grows at its end); the lines' are built again first, then the nodes'.
        with (
            _indexes_set_aside(node_t, keeping=other_nodes, writing=lines.n, only=NODE_BUILD_INDEXES),
            _indexes_set_aside(line_t, keeping=others, writing=len(lines.kind)),
        ):
            if old:
                _delete_maps(old)
            order, written_src, written_dst, written = _store(m, lines, info, scores)
            # SQLite has one writer, this transaction: its lines took the ids up to the highest.
            last_row = _max_id(Line._meta.db_table) if connection.vendor == "sqlite" else None
        _store_declared(m, declared_lines)
        seconds["store"] = time.perf_counter() - started
        m.status = MapStatus.READY
        m.seconds = {k: round(v, 3) for k, v in seconds.items()}
        m.built_at = timezone.now()
        m.save(update_fields=["status", "seconds", "built_at"])
    if not m.label:
        e = len(lines.kind)
        rows = _inserted_rows(m, e, after=0) if last_row is None else np.arange(last_row - e + 1, last_row + 1)
        if rows is not None:
            # The lines were written in the unique index's order: line `written[i]` has the i-th id.
            line_rows = np.empty_like(rows)
            line_rows[written] = rows
            kept = update.keyed(lines)
            kept.weight = np.round(kept.weight, 4)
            drows = _inserted_rows(m, len(declared_lines), after=0, table=DeclaredLine._meta.db_table)
            update.save_cache(
                m, kept, line_rows, written_src, written_dst,
                update.node_arrays(lines.keys[order], info.org_id[order], _permute_scores(scores, order)),
                None if drows is None else (declared_lines, drows),
                declared_mark,
            )  # fmt: skip
            _prune_declared_changes(declared_mark)
    return m


# graph_node's indexes other than its unique one (models.Node), set aside while a build writes.
NODE_BUILD_INDEXES = ("graph_node_ref_idx", "graph_node_rank_idx")
# SQLite's page cache while a build writes (KiB): the map's rows and its index builds then seldom
# go to the disk before the commit. The connection's own size is put back afterwards.
BUILD_CACHE_KIB = 256 * 1024


def _lines_kept(*, besides: Sequence[int]) -> int:
    """How many stored lines belong to maps other than `besides` (the snapshots a build keeps)."""
    counts = Map.objects.exclude(pk__in=besides).values_list("line_count", flat=True)
    return int(sum(counts))


@contextmanager
def _indexes_set_aside(table: str, *, keeping: int, writing: int, only: Sequence[str] | None = None) -> Iterator[None]:
    """On SQLite, drop `table`'s secondary indexes (those named in `only`, or all) while many of
    its rows are written, and create them again afterwards, in the same transaction: building an
    index from all rows at once sorts them, while keeping it up to date moves entries one by one
    at random places (and leaves every page of the index to be written out again).

    A full build sets aside graph_line's indexes (by source, by target) and graph_node's (by
    reference, by influence) while it deletes the old map and writes its own; the daily update
    sets aside graph_node's index by influence while it writes the nodes' new influence. Worth it
    only when at least as many rows are written as the table keeps from other maps (snapshots),
    since the rebuild covers every row.
    (A unique index cannot be dropped: it is part of the table; a build writes the lines in its
    order instead.) A reader never sees the table without them: the change is part of the
    writer's transaction."""
    if connection.vendor != "sqlite" or writing < keeping:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
            [table],
        )
        indexes = [(name, sql) for name, sql in cursor.fetchall() if only is None or name in only]
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        for _, sql in indexes:
            cursor.execute(sql)


UPDATE_PHASES = ("read", "gather", "fold", "describe", "analytics", "store")
ACTORS_TABLE = "graph_update_actors"


def update_map(
    *,
    window_days: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> MapBuildResult:
    """Fold what happened since the current map's last build or update into it (docs/map.md,
    "The daily update"): the window slides to end now, activity recorded since is added, activity
    that slid out of the window and changed declarations are taken out again, and the scores are
    brought up to date. Far cheaper than a full build; the lines come out the same.

    Raises ApplicationError(VALIDATION) when there is no map to update or nothing would be left,
    CONFLICT when the weights or the window differ from the map's (a full build applies them) or
    the map changed while this ran. Writes in one transaction: stopped half-way, it leaves the
    map as it was, and running it again is harmless.
    """
    tick = progress or (lambda done, total: None)
    total = len(UPDATE_PHASES)
    seconds: dict[str, float] = {}
    warnings: list[str] = []
    m = _map_to_update(window_days)
    span = m.window_to - m.window_from
    end = now or timezone.now()
    start = end - span
    if end < m.window_to:
        raise invalid(
            f"The current map already runs to {m.window_to:%Y-%m-%d %H:%M}; an update must end later."
            " Check the clock, or run a full build (`convenor map build`).",
            now=f"{end:%Y-%m-%d %H:%M}",
        )
    weights = build.verb_weights()

    t = time.perf_counter()
    tick(0, total)
    last_id = _last_activity_id()
    declared_mark = _declared_mark()
    stored = update.load(m, ends=False)
    seconds["read"] = time.perf_counter() - t
    tick(1, total)

    t = time.perf_counter()
    # Activity that slid out of the window (taken in by the last build, now too old): which lines it touched.
    gone = build.gather_activity(
        build.Slice(start=m.window_from, end=start, end_open=True, max_id=m.last_activity_id), weights
    )
    # Activity new to the map: recorded since (by id, a short range of the primary key), or
    # recorded before but dated after the old window's end (a short range of the time index).
    fresh = build.merge_raw(
        build.gather_activity(build.Slice(start=start, end=end, min_id=m.last_activity_id, max_id=last_id), weights),
        build.gather_activity(
            build.Slice(
                start=max(start, m.window_to), start_open=m.window_to >= start, end=end, max_id=m.last_activity_id
            ),
            weights,
        ),
    )
    gone_k = update.keyed(build.fold(gone))
    # The declared part to compare: all of it, or (from the declarations' change log) the kept
    # part's lines `old_at` that may have changed or that the slid-out slice touched, and the
    # same pairs' lines now (every other declared line is as kept, and on the map).
    old_at, declared = _declared_now(stored, m, start=start, end=end, mark=declared_mark, gone=gone_k)
    old_decl = stored.declared if old_at is None else stored.declared.take(old_at)
    seconds["gather"] = time.perf_counter() - t

    t = time.perf_counter()
    fresh_lines = build.fold(fresh)
    fresh_k = update.keyed(fresh_lines)
    # Every line's ends: the stored lines' are stored nodes.
    universe = update.universe_of(old_decl, declared, gone_k, fresh_k, extra=stored.node_keys)
    ids_stored = update.stored_line_ids(stored, universe)
    stored_index = update.Sorted(ids_stored)  # sorted once: every look-up below is a binary search
    ids_old_decl = update.line_ids(old_decl, universe)
    ids_decl = update.line_ids(declared, universe)
    # A declaration is in a stored line when that line is on the map (a weightless one may not be).
    on_map, _ = stored_index.find(ids_old_decl)
    in_new, at_new = update.match(ids_old_decl, ids_decl)
    same = np.zeros(len(ids_old_decl), dtype=bool)
    if in_new.any():
        same[in_new] = update.same_values(old_decl.take(in_new), declared.take(at_new[in_new]))
    # Lines to rebuild from their remaining evidence: those the slid-out slice touched, and those
    # holding a declaration that changed or ended.
    affected = np.unique(np.concatenate([update.line_ids(gone_k, universe), ids_old_decl[on_map & ~same]]))
    seconds["fold"] = time.perf_counter() - t
    tick(2, total)

    t = time.perf_counter()
    redo = update.empty()
    if len(affected):
        hit, at = stored_index.find(affected)
        touched = update.stored_lines(stored, at[hit])
        touched_decl = update.match(ids_decl, affected)[0]
        people = update.person_ends(touched)
        again = _gather_for_people(people, start=start, end=end, max_id=last_id, weights=weights)
        rebuilt = update.keyed(build.fold(update.raw_of(update.keyed(build.fold(again)), declared.take(touched_decl))))
        # Only the affected lines (whose ends are all in `universe`): these people's other lines stay as stored.
        inside = update.among(rebuilt.a, universe) & update.among(rebuilt.b, universe)
        rebuilt = rebuilt.take(inside)
        redo = rebuilt.take(update.among(update.line_ids(rebuilt, universe), affected))
    seconds["gather"] += time.perf_counter() - t
    tick(3, total)

    t = time.perf_counter()
    keep_stored = np.ones(len(ids_stored), dtype=bool)
    hit, at = stored_index.find(affected)
    keep_stored[at[hit]] = False
    fresh_keep = ~update.among(update.line_ids(fresh_k, universe), affected)
    # Declarations not yet in any stored line (new ones, or weightless ones whose line was not drawn).
    decl_add = ~update.match(ids_decl, ids_old_decl[on_map])[0] & ~update.among(ids_decl, affected)
    folded = update.merge(
        stored.lines, ids_stored, keep_stored, universe, fresh_k.take(fresh_keep), declared.take(decl_add), redo
    )
    merged = folded.lines
    seconds["fold"] += time.perf_counter() - t
    if fresh_lines.self_loops:
        warnings.append(f"left out {fresh_lines.self_loops:,} new self-loops.")
    if len(merged.kind) == 0:
        raise invalid(
            f"Nothing would be left on the map between {start:%Y-%m-%d} and {end:%Y-%m-%d}: no activity, declared"
            " relationships or affiliations in that window. Nothing was changed.",
            window=f"{start:%Y-%m-%d}..{end:%Y-%m-%d}",
        )

    t = time.perf_counter()
    pos = update.positions(stored.node_keys, merged.keys)
    known, at_old = update.match(merged.keys, stored.node_keys)
    info = _describe_update(merged, known, at_old, stored)
    org_node = _org_nodes(merged, info.org_id)
    seconds["describe"] = time.perf_counter() - t
    tick(4, total)

    diff = _line_diff(stored, folded, stored_index, pos, known & (pos != at_old))
    t = time.perf_counter()
    previous = _previous(merged, known, at_old, stored, diff)
    scores = analytics.rescore(merged, org_node, previous)
    seconds["analytics"] = time.perf_counter() - t
    tick(5, total)
    if scores.betweenness_sampled:
        warnings.append("brokerage kept from the last full build (new people have none until the next one).")
    if not scores.reach_exact:
        warnings.append("two-step reach is an upper bound on this map (very busy hubs).")

    t = time.perf_counter()
    # The build's page cache on SQLite: the update deletes, inserts and changes lines at random
    # places among millions and rewrites nearly every node's influence, and with the connection's
    # own small cache most of those pages would be read again and spilled before the commit.
    with sqlite_pragma("cache_size", -BUILD_CACHE_KIB):
        changed = _store_update(m, stored, merged, pos, diff, info, scores, declared, (same, at_new), start=start,
                                end=end, last_id=last_id, declared_mark=declared_mark, declared_at=old_at)  # fmt: skip
    seconds["store"] = time.perf_counter() - t
    m.refresh_from_db()
    m.update_seconds = {k: round(v, 3) for k, v in seconds.items()}
    m.save(update_fields=["update_seconds"])
    tick(6, total)
    by_kind = _count_by_kind(merged.kind)
    return MapBuildResult(
        map=m,
        nodes=merged.n,
        lines=len(merged.kind),
        communities=scores.communities,
        seconds=seconds,
        warnings=warnings,
        lines_by_kind=by_kind,
        updated=True,
        lines_changed=changed,
    )


# The triggers that fill graph_declaredchange (migration graph 0003, SQLite only).
DECLARED_TRIGGERS = tuple(f"graph_declared_{t}_{op}" for t in ("rel", "aff") for op in ("insert", "update", "delete"))
DECLARED_ENDS_TABLE = "graph_update_declared_ends"


def _declared_mark() -> int:
    """The declarations' change log's newest row (0 when empty), read before the declarations
    are: a change logged after it is the next update's. -1 where no triggers fill the log
    (PostgreSQL): the update then reads every declaration in force."""
    if connection.vendor != "sqlite":
        return -1
    with connection.cursor() as cursor:
        names = ",".join(["%s"] * len(DECLARED_TRIGGERS))
        cursor.execute(f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})",  # noqa: S608  # placeholders only
                       list(DECLARED_TRIGGERS))  # fmt: skip
        if int(cursor.fetchone()[0]) != len(DECLARED_TRIGGERS):
            return -1
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {DeclaredChange._meta.db_table}")  # noqa: S608  # fixed table name
        return int(cursor.fetchone()[0])


def _prune_declared_changes(mark: int) -> None:
    """Forget the change log below `mark` (the current map's), keeping its newest row: an update
    whose map is older finds the gap (its own mark below the oldest row kept) and reads all."""
    if mark > 0:
        DeclaredChange.objects.filter(id__lt=mark).delete()


def _declared_now(
    stored: update.Stored, m: Map, *, start: datetime, end: datetime, mark: int, gone: update.Keyed
) -> tuple[build.I64 | None, update.Keyed]:
    """The declared part in force over [start, end], as much of it as the update must compare
    with the kept one: `(None, all of it)` when every declaration is read and folded again, or
    `(at, lines)`: the kept declared lines `at` that may differ now or that the slid-out slice
    `gone` touched, and those pairs' declared lines now. The pairs that may differ are those
    whose declarations changed since the kept part's mark (the change log, up to `mark`) or came
    in or went out with the window's slide (a start after the old window's last day, an end
    before the new one's first day); only their declarations are read again. Every other
    declared line is as kept (and on the map: every kept declared line carries weight, or all
    is read). All is read when the log cannot tell (no mark kept, rows pruned since, no log)."""

    def everything() -> tuple[None, update.Keyed]:
        raw = build.gather_declared(build.Raw(), start=start, end=end)
        return None, update.keyed(build.fold(raw, keep_weightless=True))

    since, old = stored.declared_mark, stored.declared
    if mark < 0 or since < 0 or since > mark or not (old.weight > 0).all():
        return everything()
    log = DeclaredChange._meta.db_table
    member = build.KIND_CODE[NodeKind.MEMBER] * build.KEY_SHIFT
    org = build.KIND_CODE[NodeKind.ORGANIZATION] * build.KEY_SHIFT
    rel_ends = (f"COALESCE({member} + source_member_id, {org} + source_org_id),"
                f" COALESCE({member} + target_member_id, {org} + target_org_id)")  # fmt: skip
    # A declaration unchanged comes in when it starts after the old window's last day, up to the
    # new one's, and goes out when it ends before the new window's first day, from the old one's.
    slid = "(started_on > %s AND started_on <= %s) OR (ended_on >= %s AND ended_on < %s)"
    days = [m.window_to.date(), end.date(), m.window_from.date(), start.date()]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id) FROM {log}")  # noqa: S608  # fixed table name
        oldest = cursor.fetchone()[0]
        if (oldest is None and since > 0) or (oldest is not None and int(oldest) > since + 1):
            return everything()  # rows after the mark were pruned: the log cannot tell
        pairs = []
        for sql, params in (
            (f"SELECT source_key, target_key FROM {log} WHERE id > %s AND id <= %s", [since, mark]),  # noqa: S608  # fixed table name
            (f"SELECT {rel_ends} FROM people_relationship WHERE {slid}", days),  # noqa: S608  # fixed names
            (f"SELECT {member} + member_id, {org} + organization_id FROM people_affiliation WHERE {slid}", days),  # noqa: S608  # fixed names
        ):
            cursor.execute(sql, params)
            pairs.append(np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2))
    both = np.concatenate(pairs)
    lo, hi = both.min(axis=1), both.max(axis=1)  # undirected: the smaller key first, as fold puts it
    # Declared lines are connections: the slid-out slice's connections are the pairs it touched.
    conn = gone.kind == build.LINE_CODE[LineKind.CONNECTION]
    keys = sorted_unique(np.concatenate([lo, hi, gone.a[conn], gone.b[conn]]))
    if len(keys) > max(50_000, len(old) // 4):  # a big change: reading everything is cheaper
        return everything()
    changed = sorted_unique(_pair_codes(keys, lo, hi))
    asked = sorted_unique(np.concatenate([changed, _pair_codes(keys, gone.a[conn], gone.b[conn])]))
    old_codes = _pair_codes(keys, old.a, old.b)
    at = np.flatnonzero(update.among(old_codes, asked))
    now = update.empty()
    if len(changed):
        ends = sorted_unique(np.concatenate([lo, hi]))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {DECLARED_ENDS_TABLE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {DECLARED_ENDS_TABLE} (key BIGINT PRIMARY KEY)")
        try:
            bulk_insert(DECLARED_ENDS_TABLE, ("key",), ((int(k),) for k in ends.tolist()))
            raw = build.gather_declared(build.Raw(), start=start, end=end, ends_table=DECLARED_ENDS_TABLE)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {DECLARED_ENDS_TABLE}")
        now = update.keyed(build.fold(raw, keep_weightless=True))
        # Only the pairs asked for (two ends asked for may make another pair, which stays as kept).
        now = now.take(update.among(_pair_codes(keys, now.a, now.b), changed))
    # The pairs only the slid-out slice touched: their declarations are as kept.
    unchanged = at[~update.among(old_codes[at], changed)]
    return at, update.concat(now, old.take(unchanged))


def _pair_codes(keys: build.I64, a: build.I64, b: build.I64) -> build.I64:
    """Each pair (a, b) as one number over the sorted `keys` (-1 when an end is not among them)."""
    if not len(keys):
        return np.full(len(a), -1, dtype=np.int64)
    ia = np.minimum(np.searchsorted(keys, a), len(keys) - 1)
    ib = np.minimum(np.searchsorted(keys, b), len(keys) - 1)
    code = ia.astype(np.int64) * len(keys) + ib
    code[(keys[ia] != a) | (keys[ib] != b)] = -1
    return code


def _map_to_update(window_days: int | None) -> Map:
    m = Map.objects.filter(label="", status=MapStatus.READY).order_by("-built_at", "-id").first()
    if m is None:
        raise invalid("There is no map to update yet: build it first (`convenor map build`).")
    if not m.updatable:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            "The current map was built before daily updates existed; run a full build once"
            " (`convenor map build`), then update it daily.",
        )
    days = round((m.window_to - m.window_from).total_seconds() / 86_400)
    if window_days is not None and window_days != days:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"The current map covers {days:,} days, not {window_days:,}: a new window needs a full build"
            f" (`convenor map build --window {window_days}`).",
            fields={"window": [str(window_days)]},
        )
    weights = build.verb_weights()
    if weights != m.weights:
        diff = ", ".join(
            f"{v} {m.weights.get(v, '?')} -> {w}" for v, w in sorted(weights.items()) if m.weights.get(v) != w
        )
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"The weights per verb changed since the map was built ({diff or 'verbs added or removed'}): run a full"
            " build (`convenor map build`) to apply them.",
        )
    return m


def _gather_for_people(
    people: build.I64, *, start: datetime, end: datetime, max_id: int, weights: dict[str, float]
) -> build.Raw:
    """The window's activity of the given people, grouped in SQL (their ids in a temporary table)."""
    if not len(people):
        return build.Raw()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ACTORS_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {ACTORS_TABLE} (id BIGINT PRIMARY KEY)")
    try:
        bulk_insert(ACTORS_TABLE, ("id",), ((int(p),) for p in people.tolist()))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {ACTORS_TABLE}")
        part = build.Slice(start=start, end=end, max_id=max_id, actors_table=ACTORS_TABLE)
        return build.gather_activity(part, weights)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {ACTORS_TABLE}")


def _describe_update(
    merged: build.Lines, known: np.ndarray, at_old: build.I64, stored: update.Stored
) -> build.NodeInfo:
    """Labels, roles and organisations: kept for nodes already on the map (their labels and roles
    stay in the database, read back only for the few rows written again), read for new ones."""
    n = merged.n
    label = [""] * n
    role = [""] * n
    org = np.full(n, -1, dtype=np.int64)
    old = np.flatnonzero(known)
    org[old] = stored.org_id[at_old[old]]
    new = np.flatnonzero(~known)
    if len(new):
        e = np.empty(0, dtype=np.int64)
        fresh = build.describe(build.Lines(merged.keys[new], e, e, e, np.empty(0), e, e, e, e))
        for i, p in enumerate(new.tolist()):
            label[p] = fresh.label[i]
            role[p] = fresh.role[i]
        org[new] = fresh.org_id
    return build.NodeInfo(label=label, role=role, org_id=org)


@dataclass
class LineDiff:
    """The updated lines at their map positions against the stored rows: which to write again
    (new or changed) and which stored rows to keep."""

    src: build.I64
    dst: build.I64
    undirected: np.ndarray
    weight: build.F64  # as stored (4 decimals)
    write: build.I64  # merged line indexes
    kept_rows: np.ndarray  # over the stored lines
    added: np.ndarray  # over the merged lines: not on the stored map
    removed: np.ndarray  # over the stored lines: not on the updated map
    stored_at: build.I64  # over the merged lines: the stored line it is (same identity), -1 for none
    in_place: build.I64  # those of `write` whose stored row stays (same ends, same positions): updated


def _line_diff(
    stored: update.Stored, folded: update.Merged, stored_index: update.Sorted, pos: build.I64, moved: np.ndarray
) -> LineDiff:
    """`moved`: over the merged nodes, those on the stored map whose position changed."""
    merged = folded.lines
    # Undirected lines keep the smaller position first.
    src, dst = pos[merged.src], pos[merged.dst]
    undirected = ~update._DIRECTED[merged.kind]
    swap = undirected & (src > dst)
    src, dst = np.where(swap, dst, src), np.where(swap, src, dst)
    # Stored weights are rounded already: only the lines the day touched need rounding.
    t = folded.touched
    weight = merged.weight.copy()
    weight[t] = np.round(weight[t], 4)
    # Each updated line's stored line: known for those carried over; looked up for the new ones
    # (a rebuilt line has the same identity as the stored line it replaces).
    at = folded.stored_at.copy()
    fresh = np.flatnonzero(at < 0)
    found, where = stored_index.find(folded.ids[fresh])
    at[fresh] = np.where(found, where, -1)
    hit = at >= 0
    same = hit.copy()
    # A line carried over untouched has its stored figures: it differs from its row only when an
    # end moved. The others (touched, or at a moved node) are compared figure by figure.
    check = np.union1d(t, np.flatnonzero(moved[merged.src] | moved[merged.dst])) if moved.any() else t
    h = check[hit[check]]
    if len(h):
        o = at[h]
        same[h] = (
            (src[h] == stored.line_src[o])
            & (dst[h] == stored.line_dst[o])
            & (weight[h] == stored.lines.weight[o])
            & (merged.evidence[h] == stored.lines.evidence[o])
            & (merged.first[h] == stored.lines.first[o])
            & (merged.last[h] == stored.lines.last[o])
            & (merged.basis[h] == stored.lines.basis[o])
        )
    kept_rows = np.zeros(len(stored.lines), dtype=bool)
    kept_rows[at[same]] = True
    removed = np.ones(len(stored.lines), dtype=bool)
    removed[at[hit]] = False
    # A line whose figures changed but whose ends kept their positions keeps its row: its figures
    # are updated in place, which touches none of the line indexes (a delete and an insert touch
    # all three, at random places).
    write = np.flatnonzero(~same)
    p = write[hit[write]]
    p = p[(src[p] == stored.line_src[at[p]]) & (dst[p] == stored.line_dst[at[p]])]
    return LineDiff(src, dst, undirected, weight, write, kept_rows, ~hit, removed, at, p)


def _previous(
    merged: build.Lines, known: np.ndarray, at_old: build.I64, stored: update.Stored, diff: LineDiff
) -> analytics.Previous:
    """What the scores keep from the stored map, aligned with the merged map's nodes."""
    n = merged.n

    def carry(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(n, fill, dtype=values.dtype)
        out[known] = values[at_old[known]]
        return out

    # Each stored node's place on the updated map; nodes no longer on it after those (n + k).
    member = build.KIND_CODE[NodeKind.MEMBER]
    now_at = np.full(len(stored.node_keys), -1, dtype=np.int64)
    now_at[at_old[known]] = np.flatnonzero(known)
    gone = now_at < 0
    now_at[gone] = n + np.arange(int(gone.sum()))
    # Two-step reach changes only around person-to-person lines gained or lost (analytics.reach2_update).
    people = merged.node_kind == member
    pp = people[merged.src] & people[merged.dst]
    gained = diff.added & pp
    old_people = stored.node_keys // build.KEY_SHIFT == member
    lost = diff.removed & old_people[stored.line_src] & old_people[stored.line_dst]
    # Leiden moves on their own the nodes whose lines changed (new, gone, or other figures).
    changed = np.zeros(n, dtype=bool)
    changed[merged.src[diff.write]] = True
    changed[merged.dst[diff.write]] = True
    for ends in (now_at[stored.line_src[diff.removed]], now_at[stored.line_dst[diff.removed]]):
        changed[ends[ends < n]] = True
    return analytics.Previous(
        known=known,
        community=carry(stored.community, -1),
        brokerage=carry(stored.brokerage, 0.0),
        reach2=carry(stored.reach2, 0),
        x=carry(stored.x, 0.0),
        y=carry(stored.y, 0.0),
        lines_gained=(merged.src[gained], merged.dst[gained]),
        lines_lost=(now_at[stored.line_src[lost]], now_at[stored.line_dst[lost]]),
        nodes_then=n + int(gone.sum()),
        changed=changed,
    )


def _store_update(
    m: Map,
    stored: update.Stored,
    merged: build.Lines,
    pos: build.I64,
    diff: LineDiff,
    info: build.NodeInfo,
    scores: analytics.Scores,
    declared: update.Keyed,
    declared_same: tuple[np.ndarray, build.I64],
    *,
    start: datetime,
    end: datetime,
    last_id: int,
    declared_mark: int = -1,
    declared_at: build.I64 | None = None,
) -> int:
    """Write the update in one transaction: the lines that changed (deleted and written again),
    all nodes (their scores moved), the declared part, and the map's window and watermark.
    `declared_same` tells, for each stored declaration compared (those at `declared_at` among the
    kept declared part, all when None), whether it is in force now with the same figures, and
    where among `declared`. Returns how many lines were written."""
    compared = np.arange(len(stored.declared)) if declared_at is None else declared_at
    src, dst, undirected, weight = diff.src, diff.dst, diff.undirected, diff.weight
    stays = diff.kept_rows.copy()
    stays[diff.stored_at[diff.in_place]] = True
    drop = stored.line_row[~stays]
    inserted = np.ones(len(merged.kind), dtype=bool)
    inserted[diff.in_place] = False
    write = diff.write[inserted[diff.write]]  # new rows; the others in place
    order = np.argsort(pos)  # merged node index by map position
    with transaction.atomic():
        locked = (
            Map.objects.select_for_update()
            .filter(pk=m.pk, status=MapStatus.READY, last_activity_id=m.last_activity_id, window_to=m.window_to)
            .first()
        )
        if locked is None:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                "The current map changed (rebuilt or updated) while this update ran; nothing was written."
                " Run the update again.",
            )
        _delete_rows(Line._meta.db_table, drop)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Line._meta.db_table}")  # noqa: S608  # fixed table name
            max_before = int(cursor.fetchone()[0])
        rows = zip(
            [m.pk] * len(write),
            [build.LINE_ORDER[k] for k in merged.kind[write].tolist()],
            src[write].tolist(),
            dst[write].tolist(),
            (~undirected[write]).tolist(),
            *_line_figures(merged, weight, write),
            strict=True,
        )
        bulk_insert(Line._meta.db_table, LINE_COLUMNS, rows)
        _update_lines(stored.line_row[diff.stored_at[diff.in_place]], merged, diff.in_place, weight)
        known, at_old = update.match(merged.keys, stored.node_keys)
        was = np.where(known, at_old, -1)[order]  # each position's stored position, -1 for new nodes
        info_at, scores_at = _permute_info(info, order), _permute_scores(scores, order)
        _store_node_changes(m, stored, merged.keys[order], info_at, scores_at, was)
        # The declared part: only the declarations that changed.
        kept_d, at_d = declared_same
        same_d = np.zeros(len(declared), dtype=bool)
        same_d[at_d[kept_d]] = True
        _delete_rows(DeclaredLine._meta.db_table, stored.declared_row[compared[~kept_d]])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {DeclaredLine._meta.db_table}")  # noqa: S608  # fixed table name
            max_declared = int(cursor.fetchone()[0])
        _store_declared(m, declared.take(~same_d))
        Map.objects.filter(pk=m.pk).update(
            window_from=start,
            window_to=end,
            last_activity_id=last_id,
            node_count=merged.n,
            line_count=len(merged.kind),
            community_count=scores.communities,
            updated_at=timezone.now(),
        )
    m.refresh_from_db()
    new_rows = _inserted_rows(m, len(write), after=max_before)
    new_decl = _inserted_rows(m, int((~same_d).sum()), after=max_declared, table=DeclaredLine._meta.db_table)
    if new_rows is None:
        update.drop_cache(m)
    else:
        kept_all = np.ones(len(stored.declared), dtype=bool)
        kept_all[compared[~kept_d]] = False
        # In the merged lines' order, that of their identities: the next update's look-ups among
        # them then start from sorted ids.
        row = np.empty(len(merged.kind), dtype=np.int64)
        kept = np.ones(len(merged.kind), dtype=bool)
        kept[write] = False
        row[kept] = stored.line_row[diff.stored_at[kept]]  # unchanged or updated in place
        row[write] = new_rows
        # The kept arrays hold no ends by key (they follow from the nodes' keys): not made here.
        e = np.empty(0, dtype=np.int64)
        lines = update.Keyed(merged.kind, e, e, weight, merged.evidence, merged.first, merged.last, merged.basis)
        update.save_cache(
            m,
            lines,
            row,
            src,
            dst,
            update.node_arrays(merged.keys[order], info_at.org_id, scores_at),
            None if new_decl is None else (
                update.concat(stored.declared.take(kept_all), declared.take(~same_d)),
                np.concatenate([stored.declared_row[kept_all], new_decl]),
            ),
            declared_mark,
        )  # fmt: skip
        if new_decl is not None:
            _prune_declared_changes(declared_mark)
    return len(diff.write)


LINES_TABLE = "graph_update_lines"


def _line_figures(merged: build.Lines, weight: build.F64, at: Any) -> list[list[Any]]:
    """The columns weight, first_seen, last_seen, evidence and basis of the lines `at`, as
    the daily update writes them (new lines and lines updated in place alike)."""
    return [
        weight[at].tolist(),
        epoch_texts(merged.first[at]),
        epoch_texts(merged.last[at]),
        merged.evidence[at].tolist(),
        merged.basis[at].tolist(),
    ]


def _update_lines(rows: build.I64, merged: build.Lines, at: build.I64, weight: build.F64) -> None:
    """Set the figures (weight, first and last seen, evidence, basis) of the stored lines `rows`
    to those of the merged lines `at`, through a temporary table and one UPDATE."""
    if not len(rows):
        return
    line_t = Line._meta.db_table
    pg = connection.vendor == "postgresql"
    when, key = ("TIMESTAMP WITH TIME ZONE", "BIGINT") if pg else ("TEXT", "INTEGER")  # SQLite: the rowid
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {LINES_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {LINES_TABLE} (id {key} PRIMARY KEY, weight DOUBLE PRECISION,"
            f" first_seen {when}, last_seen {when}, evidence INTEGER, basis BIGINT)"
        )
        values = zip(rows.tolist(), *_line_figures(merged, weight, at), strict=True)
        bulk_insert(LINES_TABLE, ("id", "weight", "first_seen", "last_seen", "evidence", "basis"), values)
        # By id, a look-up each (UPDATE ... FROM lets SQLite, which knows nothing of the temporary
        # table's size, walk every line of every map instead).
        cols = "weight, first_seen, last_seen, evidence, basis"
        cursor.execute(
            f"UPDATE {line_t} SET ({cols}) = (SELECT {cols} FROM {LINES_TABLE} u WHERE u.id = {line_t}.id)"  # noqa: S608  # fixed table and column names
            f" WHERE id IN (SELECT id FROM {LINES_TABLE})"
        )
        cursor.execute(f"DROP TABLE IF EXISTS {LINES_TABLE}")


def _store_node_changes(
    m: Map, stored: update.Stored, keys: build.I64, info: build.NodeInfo, scores: analytics.Scores, was: build.I64
) -> None:
    """Write the nodes at their positions: nodes new or moved are written again; nodes still at
    their place with any score other than influence and two-step reach changed get their scores
    in one statement; the others (most) only get their influence and reach, in another (a hub's
    lines parted change the reach of everyone next to it, so that is most nodes some days)."""
    n, n_old = len(keys), len(stored.node_keys)
    common = min(n, n_old)
    bk = scores.by_kind
    counts = np.column_stack([
        scores.degree, bk["connection"], bk["participation"], bk["influence"], bk["prospecting"], bk["channel"],
        scores.internal, scores.external,
    ])  # fmt: skip
    c = slice(0, common)
    in_place = keys[c] == stored.node_keys[c]
    steady = (
        in_place
        & (info.org_id[c] == stored.org_id[c])
        & (scores.community[c] == stored.community[c])
        & (scores.brokerage[c] == stored.brokerage[c])
        & (np.round(scores.x[c], 2) == stored.x[c])
        & (np.round(scores.y[c], 2) == stored.y[c])
        & (counts[c] == stored.counts[c]).all(axis=1)
    )
    rewrite = np.concatenate([np.flatnonzero(~in_place), np.arange(common, n)])
    gone = np.concatenate([np.flatnonzero(~in_place), np.arange(n, n_old)])
    node_t = Node._meta.db_table
    # Nodes already on the map keep their label and role: read back those of the rows rewritten.
    again = rewrite[was[rewrite] >= 0]
    if len(again):
        texts: dict[int, tuple[str, str]] = {}
        for lo in range(0, len(again), 5_000):
            chunk = was[again[lo : lo + 5_000]].tolist()
            texts.update(
                (i, (lab, rol))
                for i, lab, rol in Node.objects.filter(map=m, idx__in=chunk).values_list("idx", "label", "role")
            )
        for p, q in zip(again.tolist(), was[again].tolist(), strict=True):
            info.label[p], info.role[p] = texts[q]
    rescored = np.flatnonzero(in_place & ~steady)
    moved = np.flatnonzero(steady)
    moved = moved[(scores.pagerank[moved] != stored.pagerank[moved]) | (scores.reach2[moved] != stored.reach2[moved])]
    # Influence moves a little for nearly everyone each day: its index is built again rather than
    # kept up to date entry by entry, unless snapshots hold more nodes than are written.
    others = int(sum(Map.objects.exclude(pk=m.pk).values_list("node_count", flat=True)))
    written = len(rewrite) + len(rescored) + len(moved)
    with _indexes_set_aside(node_t, keeping=others, writing=written, only=[NODE_RANK_INDEX]):
        with connection.cursor() as cursor:
            rows = gone.tolist()
            for lo in range(0, len(rows), 5_000):
                chunk = rows[lo : lo + 5_000]
                cursor.execute(
                    f"DELETE FROM {node_t} WHERE map_id = %s AND idx IN ({','.join(['%s'] * len(chunk))})",  # noqa: S608  # fixed table name and placeholders
                    [m.pk, *chunk],
                )
        _store_nodes(m, keys, info, scores, only=rewrite)
        _update_nodes(m, rescored, {
            "org_id": _or_null(info.org_id[rescored]),
            "community": _or_null(scores.community[rescored]),
            "pagerank": scores.pagerank[rescored],
            "brokerage": scores.brokerage[rescored],
            **{col: counts[rescored, i] for i, col in enumerate(update.COUNT_COLUMNS)},
            "reach2": scores.reach2[rescored],
            "x": np.round(scores.x[rescored], 2),
            "y": np.round(scores.y[rescored], 2),
        })  # fmt: skip
        _update_nodes(m, moved, {"pagerank": scores.pagerank[moved], "reach2": scores.reach2[moved]})


def _or_null(values: build.I64) -> npt.NDArray[np.object_]:
    """Whole numbers as Python objects, None for the negative ones (none: no organisation, no community)."""
    out = values.astype(object)
    out[values < 0] = None
    return out


# graph_node's index by influence (models.Node), which the update sets aside while it writes.
NODE_RANK_INDEX = "graph_node_rank_idx"


RANK_TABLE = "graph_update_rank"
_NODE_SQL_TYPES = {"org_id": "BIGINT", "pagerank": "DOUBLE PRECISION", "brokerage": "DOUBLE PRECISION",
                   "x": "DOUBLE PRECISION", "y": "DOUBLE PRECISION"}  # fmt: skip


def _update_nodes(m: Map, at: build.I64, values: dict[str, npt.NDArray[Any]]) -> None:
    """Set the given columns of the nodes at positions `at`, through a temporary table and one
    UPDATE (far cheaper than deleting and writing whole rows again)."""
    if not len(at):
        return
    node_t = Node._meta.db_table
    cols = list(values)
    typed = ", ".join(f"{c} {_NODE_SQL_TYPES.get(c, 'INTEGER')}" for c in cols)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RANK_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {RANK_TABLE} (idx INTEGER PRIMARY KEY, {typed})")
        bulk_insert_columns(RANK_TABLE, ("idx", *cols), [at, *values.values()])
        cursor.execute(
            f"UPDATE {node_t} SET {', '.join(f'{c} = r.{c}' for c in cols)} FROM {RANK_TABLE} r"  # noqa: S608  # fixed table and column names
            f" WHERE {node_t}.map_id = %s AND {node_t}.idx = r.idx",
            [m.pk],
        )
        cursor.execute(f"DROP TABLE IF EXISTS {RANK_TABLE}")


def _max_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608  # fixed table name
        return int(cursor.fetchone()[0])


def _inserted_rows(m: Map, count: int, *, after: int, table: str = Line._meta.db_table) -> build.I64 | None:
    """The ids of the `count` lines just written to map `m` (numbered above `after`), in the order
    written, when they are numbered one after another (None otherwise: the cache is then skipped)."""
    with connection.cursor() as cursor:
        # `+map_id` on SQLite, which would otherwise follow an index by map through every row of
        # the map: the rows wanted are the last ids, a range of the primary key.
        by_map = "+map_id" if connection.vendor == "sqlite" else "map_id"
        cursor.execute(
            f"SELECT MIN(id), MAX(id), COUNT(*) FROM {table} WHERE id > %s AND {by_map} = %s",  # noqa: S608  # fixed table and column names
            [after, m.pk],
        )
        lo, hi, n = cursor.fetchone()
    if n != count:
        return None
    if count == 0:
        return np.empty(0, dtype=np.int64)
    if int(hi) - int(lo) + 1 != count:
        return None
    return np.arange(int(lo), int(hi) + 1, dtype=np.int64)


def _delete_rows(table: str, ids: build.I64) -> None:
    rows = ids.tolist()
    with connection.cursor() as cursor:
        for lo in range(0, len(rows), 5_000):
            chunk = rows[lo : lo + 5_000]
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({','.join(['%s'] * len(chunk))})", chunk)  # noqa: S608  # fixed table name and placeholders


def _permute_info(info: build.NodeInfo, order: build.I64) -> build.NodeInfo:
    idx = order.tolist()
    return build.NodeInfo(
        label=[info.label[i] for i in idx], role=[info.role[i] for i in idx], org_id=info.org_id[order]
    )


def _count_by_kind(kind: build.I64) -> dict[str, int]:
    """Lines per kind, for a build's or an update's summary."""
    counts = np.bincount(kind, minlength=len(build.LINE_ORDER))
    return {str(k): int(counts[i]) for i, k in enumerate(build.LINE_ORDER)}


def _permute_scores(scores: analytics.Scores, order: build.I64) -> analytics.Scores:
    return analytics.Scores(
        pagerank=scores.pagerank[order],
        brokerage=scores.brokerage[order],
        community=scores.community[order],
        degree=scores.degree[order],
        by_kind={k: v[order] for k, v in scores.by_kind.items()},
        reach2=scores.reach2[order],
        internal=scores.internal[order],
        external=scores.external[order],
        x=scores.x[order],
        y=scores.y[order],
        communities=scores.communities,
        reach_exact=scores.reach_exact,
        betweenness_sampled=scores.betweenness_sampled,
    )


def _last_activity_id() -> int:
    """The watermark: the newest activity id below which no activity can still appear.

    On SQLite one writer at a time takes the next id, so an activity not yet committed always
    gets an id above every committed one. On PostgreSQL ids come from a sequence and
    transactions commit in any order: a writer still in flight may hold an id below the newest
    one seen, and an update that started from that newest id would never count it. So there
    a brief SHARE lock on the table waits for the writers in flight to end (new writers wait
    that moment too) before reading the newest id. The lock ends with the transaction: the
    commands, pages and API call builds and updates outside any, so it lasts this one query."""
    from convenor.activity.models import Activity

    table = Activity._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")  # fixed table name
        cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608  # fixed table name
        last = cursor.fetchone()[0]
    return int(last or 0)


def _org_nodes(lines: build.Lines, org_id: build.I64) -> build.I64:
    """Each node's organisation as a node position (-1 when the organisation is not on the map)."""
    org_code = build.KIND_CODE["org"]
    keys = np.where(org_id >= 0, np.int64(org_code) * build.KEY_SHIFT + org_id, -1)
    pos = np.searchsorted(lines.keys, keys)
    pos_c = np.minimum(pos, max(lines.n - 1, 0))
    found = (keys >= 0) & (lines.keys[pos_c] == keys) if lines.n else np.zeros(0, dtype=bool)
    return np.where(found, pos_c, -1).astype(np.int64)


_UTC_SUFFIX = np.array([ord(c) for c in "+00:00"], dtype=np.uint32)


def epoch_texts(values: build.I64) -> list[str | None]:
    """Epoch seconds as stored datetimes, None where unknown (negative): the text a
    timezone-aware datetime is written as ('2026-01-28 14:46:29+00:00', what Django's SQLite
    adapter makes of it, and what PostgreSQL reads), made in bulk by numpy rather than one
    datetime object at a time."""
    texts: list[str | None] = epoch_text_array(values).tolist()
    return texts


def epoch_text_array(values: build.I64) -> npt.NDArray[np.object_]:
    """`epoch_texts` as an array of Python objects (for `bulk_insert_columns`).

    Each text is its day's ('2026-01-28') joined to its time of day's (' 14:46:29+00:00'):
    numpy writes the text of each day the values span once, the 86,400 times of day are made
    once a process, and each value's text is one join of two strings (half the cost of numpy
    writing every value's full text and turning each into a Python string)."""
    values = np.asarray(values, dtype=np.int64)
    n = len(values)
    if not n:
        return np.empty(0, dtype=object)
    known = values >= 0
    every = bool(known.all())
    seen = values if every else values[known]
    if not len(seen) or int(seen.max()) > _LAST_SECOND:
        return _epoch_text_array_whole(values)
    day = seen // _DAY
    first, last = int(day.min()), int(day.max())
    if last - first < max(n, 4_096):
        days = np.arange(first, last + 1, dtype=np.int64)
        at = day - first
    else:  # days scattered over a long span: only those that occur
        days, at = np.unique(day, return_inverse=True)
    day_text = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
    text: npt.NDArray[np.object_] = day_text[at] + _times_of_day()[seen % _DAY]
    if every:
        return text
    out = np.full(n, None, dtype=object)
    out[known] = text
    return out


_DAY = 86_400
_LAST_SECOND = 253_402_300_799  # 9999-12-31 23:59:59: four-digit years
_TIMES_OF_DAY: list[npt.NDArray[np.object_]] = []


def _times_of_day() -> npt.NDArray[np.object_]:
    """' HH:MM:SS+00:00' for each second of a day (made once a process)."""
    if not _TIMES_OF_DAY:
        _TIMES_OF_DAY.append(
            np.array([f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00:00" for s in range(_DAY)], dtype=object)
        )
    return _TIMES_OF_DAY[0]


def _epoch_text_array_whole(values: build.I64) -> npt.NDArray[np.object_]:
    """`epoch_text_array` by numpy's text of each whole value (years past 9999 too)."""
    n = len(values)
    width = 19  # 2026-01-28T14:46:29
    stamps = np.asarray(values, dtype=np.int64).astype("datetime64[s]")
    iso = np.datetime_as_string(stamps, unit="s").astype(f"<U{width}")
    chars = np.empty((n, width + len(_UTC_SUFFIX)), dtype=np.uint32)
    chars[:, :width] = iso.view(np.uint32).reshape(n, width)
    chars[:, width:] = _UTC_SUFFIX
    chars[:, 10] = ord(" ")
    text = chars.view(f"<U{chars.shape[1]}").ravel().astype(object)
    text[np.asarray(values) < 0] = None
    return text


def busiest_first(lines: build.Lines) -> tuple[build.I64, build.I64]:
    """Map positions for a full build's nodes: the busiest first (most lines, then by key).

    A daily update keeps every node at its place, and when more nodes leave the map than join
    it, it must move the nodes at the last positions into the places left free, writing all
    their lines again. In key order those were the spaces and conduits, the nodes with the most
    lines (hundreds of thousands at a million members); busiest first, they are the nodes with
    one line or two. Returns each node's position, and the order of the nodes by position."""
    n = lines.n
    lines_at = np.bincount(lines.src, minlength=n) + np.bincount(lines.dst, minlength=n)
    order = np.lexsort((np.arange(n), -lines_at)).astype(np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n, dtype=np.int64)
    return pos, order


def _store(
    m: Map, lines: build.Lines, info: build.NodeInfo, scores: analytics.Scores
) -> tuple[build.I64, build.I64, build.I64, build.I64]:
    """Write a full build's nodes (busiest first, see busiest_first) and lines. Returns the
    nodes' order by position, each line's ends as written (undirected: the smaller position
    first), and the order the lines were written in (that of the unique index: kind, source,
    target; so each new entry goes at the index's end rather than at a random place)."""
    pos, order = busiest_first(lines)
    _store_nodes(m, lines.keys[order], _permute_info(info, order), _permute_scores(scores, order))
    directed = np.isin(lines.kind, list(build.DIRECTED_LINES))
    src, dst = pos[lines.src], pos[lines.dst]
    swap = ~directed & (src > dst)
    src, dst = np.where(swap, dst, src), np.where(swap, src, dst)
    rank = KIND_RANK[lines.kind]
    if lines.n <= 1 << 30:
        # One number per line in that order: the lines are distinct, so its sort is lexsort's order.
        written = np.argsort((rank << np.int64(60)) | (src << np.int64(30)) | dst).astype(np.int64)
    else:
        written = np.lexsort((dst, src, rank)).astype(np.int64)
    # Each kind's lines one after the other (the kind first in that order): a kind's name and
    # whether its lines are directed, like the map, go into its statements as constants.
    kind_at = np.searchsorted(rank[written], np.arange(len(build.LINE_ORDER) + 1))
    kinds_written = np.argsort(KIND_RANK)
    # On SQLite, graph_line's CHECK constraints (a known kind, no self-loop) are skipped while
    # the lines are written: they are a third of each insert's cost, and these rows pass them
    # by construction (kinds from build.LINE_ORDER; build.fold drops self-loops; test_store
    # checks none is stored). PostgreSQL's COPY checks them at no such cost.
    with sqlite_pragma("ignore_check_constraints", 1):
        # A part at a time, so the rows' Python values (two texts a line for its times) never
        # all exist at once.
        weight = np.round(lines.weight, 4)
        for r, code in enumerate(kinds_written.tolist()):
            constants = (
                ("map_id", m.pk), ("kind", build.LINE_ORDER[code]), ("directed", code in build.DIRECTED_LINES)
            )  # fmt: skip
            for lo in range(int(kind_at[r]), int(kind_at[r + 1]), STORE_PART):
                at = written[lo : min(lo + STORE_PART, int(kind_at[r + 1]))]
                bulk_insert_columns(
                    Line._meta.db_table,
                    BUILD_LINE_COLUMNS,
                    [
                        src[at],
                        dst[at],
                        weight[at],
                        epoch_text_array(lines.first[at]),
                        epoch_text_array(lines.last[at]),
                        lines.evidence[at],
                        lines.basis[at],
                    ],
                    constants=constants,
                )
    return order, src, dst, written


STORE_PART = 500_000
# Each line kind's place in the order of its stored name (the unique index's order).
KIND_RANK = np.argsort(np.argsort(np.array(build.LINE_ORDER))).astype(np.int64)


LINE_COLUMNS = (
    "map_id", "kind", "source", "target", "directed", "weight", "first_seen", "last_seen", "evidence", "basis"
)  # fmt: skip
# The columns of a build's lines other than those it writes as constants (map, kind, directed).
BUILD_LINE_COLUMNS = LINE_COLUMNS[2:4] + LINE_COLUMNS[5:]


def _store_declared(m: Map, declared: update.Keyed) -> None:
    cols = ("kind", "source_key", "target_key", "weight", "evidence", "first", "last", "basis")
    values = [getattr(declared, f) for f in ("kind", "a", "b", "weight", "evidence", "first", "last", "basis")]
    bulk_insert_columns(DeclaredLine._meta.db_table, cols, values, constants=(("map_id", m.pk),))


def _store_nodes(
    m: Map, keys: build.I64, info: build.NodeInfo, scores: analytics.Scores, *, only: build.I64 | None = None
) -> None:
    """Write the nodes of `m` in the order of `keys` (their positions 0..n-1), or only those at
    the positions `only`."""
    if only is not None:
        pick = only.tolist()
        keys = keys[only]
        info = build.NodeInfo(
            label=[info.label[i] for i in pick], role=[info.role[i] for i in pick], org_id=info.org_id[only]
        )
        scores = _permute_scores(scores, only)
    n = len(keys)
    positions = np.arange(n) if only is None else only
    kinds = np.array(build.KIND_ORDER, dtype=object)[keys // build.KEY_SHIFT]
    refs = keys % build.KEY_SHIFT
    org, comm = _or_null(info.org_id), _or_null(scores.community)
    bk = scores.by_kind
    node_cols = (
        "idx", "kind", "ref_id", "label", "role", "org_id", "community", "pagerank", "brokerage",
        "degree", "deg_connection", "deg_participation", "deg_influence", "deg_prospecting", "deg_channel",
        "reach2", "internal_ties", "external_ties", "x", "y",
    )  # fmt: skip
    node_values = [
        positions,
        kinds,
        refs,
        _objects([s[:200] for s in info.label]),
        _objects(info.role),
        org,
        comm,
        scores.pagerank,
        scores.brokerage,
        scores.degree,
        bk["connection"],
        bk["participation"],
        bk["influence"],
        bk["prospecting"],
        bk["channel"],
        scores.reach2,
        scores.internal,
        scores.external,
        np.round(scores.x, 2),
        np.round(scores.y, 2),
    ]
    bulk_insert_columns(Node._meta.db_table, node_cols, node_values, constants=(("map_id", m.pk),))


def _objects(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """A list's items as an array of the same Python objects (no conversion)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def bulk_insert_columns(
    table: str,
    columns: Sequence[str],
    values: Sequence[npt.NDArray[Any]],
    *,
    chunk: int = 100_000,
    constants: Sequence[tuple[str, int | str | bool]] = (),
) -> int:
    """`bulk_insert` of rows given as columns (numpy arrays, of Python objects or of numbers,
    all of one length). On SQLite each part's values are laid out by numpy straight into the
    statements' parameter lists (a row of Python objects, then many rows chained into one
    statement's parameters, cost as much as SQLite's own work); on PostgreSQL, rows to COPY.

    `constants`: columns with one value for every row (a column name, and an int, bool or
    str), written into SQLite's statements rather than passed with each row: binding a value
    per row and column is much of an insert's cost (a build's lines: its map, kind and
    direction, 10 values a line → 7, about half the insert's time)."""
    n = len(values[0]) if len(values) else 0
    if len(values) != len(columns) or any(len(v) != n for v in values):
        raise ValueError(f"bulk_insert_columns into {table}: one column of {n} values per name")
    if connection.vendor != "sqlite":
        full_columns = [name for name, _ in constants] + list(columns)
        fixed = [np.full(n, value, dtype=object) for _, value in constants]
        return bulk_insert(table, full_columns, zip(*(v.tolist() for v in [*fixed, *values]), strict=True))
    width = len(columns)
    per = max(1, 999 // width)
    part = max(per, chunk // per * per)
    cols = ", ".join([name for name, _ in constants] + list(columns))
    one = f"({', '.join([_sql_literal(value) for _, value in constants] + ['?'] * width)})"
    single = f"INSERT INTO {table} ({cols}) VALUES {one}"  # noqa: S608  # fixed table names and placeholders; values are parameters
    multi = f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * per)}"  # noqa: S608  # the same
    with connection.cursor() as cursor:
        raw = cursor.cursor.connection.cursor()
        try:
            for lo in range(0, n, part):
                hi = min(n, lo + part)
                block = np.empty((hi - lo, width), dtype=object)
                for j, v in enumerate(values):
                    # Numbers become Python ints, floats and bools (what tolist makes of them).
                    block[:, j] = v[lo:hi] if v.dtype == object else v[lo:hi].astype(object)
                full = (hi - lo) // per
                raw.executemany(multi, block[: full * per].reshape(full, per * width).tolist())
                if hi - lo > full * per:
                    raw.executemany(single, block[full * per :].tolist())
        finally:
            raw.close()
    return n


def _sql_literal(value: int | str | bool) -> str:
    """A constant as SQLite's text of it (what binding it would store: a bool as 0 or 1)."""
    if isinstance(value, bool | int | np.integer):
        return str(int(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"not a constant for a statement: {value!r}")


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[object]], *, chunk: int = 100_000) -> int:
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
        # The driver's own cursor (in the connection's transaction), and many rows per statement:
        # both halve the cost of each row. At most 999 values a statement, as any SQLite allows.
        width = len(columns)
        per = max(1, 999 // width)
        one = f"({', '.join(['?'] * width)})"
        single = f"INSERT INTO {table} ({cols}) VALUES {one}"  # noqa: S608  # fixed table names and placeholders; values are parameters
        multi = f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * per)}"  # noqa: S608  # the same
        raw = cursor.cursor.connection.cursor()
        try:
            it = iter(rows)
            while batch := list(itertools.islice(it, chunk)):
                if set(map(len, batch)) != {width}:
                    raise ValueError(f"bulk_insert into {table}: every row must have {width} values")
                full = len(batch) // per
                values = itertools.chain.from_iterable(batch[: full * per])
                raw.executemany(multi, (tuple(itertools.islice(values, per * width)) for _ in range(full)))
                if len(batch) > full * per:
                    raw.executemany(single, batch[full * per :])
                count += len(batch)
        finally:
            raw.close()
    return count
