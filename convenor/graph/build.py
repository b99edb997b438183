"""Gathering the map's lines in bulk: SQL GROUP BY over the activity log, then numpy.

Nothing here loops over activities in Python: the database aggregates them per
(actor, other end, verb), and numpy folds those groups into one row per line. What comes out
is a `Lines` bundle of parallel arrays plus the node keys; `analytics.py` scores it and
`services.py` stores it.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection

from convenor.activity.models import NATIVE_SOURCE, Activity, Verb
from convenor.core.bulk import rows_where_in
from convenor.graph.models import LineKind, NodeKind
from convenor.people.models import Affiliation, Member, Organization, Relationship, RelationshipKind

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Sources that stand for activity inside Convenor itself (the demo's simulated native
# activity is recorded under "demo"); every other source is an outside conduit.
NATIVE_SOURCES = (NATIVE_SOURCE, "demo")

# Node kinds in a fixed order: a node's key is KIND_CODE * 2**40 + its reference id.
KIND_ORDER: tuple[str, ...] = (
    NodeKind.MEMBER,
    NodeKind.ORGANIZATION,
    NodeKind.SPACE,
    NodeKind.EVENT,
    NodeKind.GROUP,
    NodeKind.CONDUIT,
)
KIND_CODE = {k: i for i, k in enumerate(KIND_ORDER)}
KEY_SHIFT = np.int64(1) << np.int64(40)
PLACE_KINDS = {"space": NodeKind.SPACE, "event": NodeKind.EVENT, "group": NodeKind.GROUP}

LINE_ORDER: tuple[str, ...] = (
    LineKind.CONNECTION,
    LineKind.PARTICIPATION,
    LineKind.INFLUENCE,
    LineKind.PROSPECTING,
    LineKind.CHANNEL,
)
LINE_CODE = {k: i for i, k in enumerate(LINE_ORDER)}
DIRECTED_LINES = frozenset({LINE_CODE[LineKind.INFLUENCE], LINE_CODE[LineKind.PROSPECTING]})

# The evidence vocabulary: a line's `basis` is a bit set over this list.
BASIS: tuple[str, ...] = (
    *(str(v) for v in Verb.values),
    *(f"declared:{k}" for k in RelationshipKind.values),
    "affiliated",
)
BASIS_BIT = {name: i for i, name in enumerate(BASIS)}
assert len(BASIS) <= 63, "the basis bit set must fit in a signed 64-bit integer"

# What a verb between two people draws, and whether the line runs from the target to the
# actor (True: "B replied to A" means A influenced B, so the line runs A -> B).
PERSON_VERBS: dict[str, tuple[str, bool]] = {
    Verb.REPLIED: (LineKind.INFLUENCE, True),
    Verb.QUOTED: (LineKind.INFLUENCE, True),
    Verb.REACTED: (LineKind.INFLUENCE, True),
    Verb.MENTIONED: (LineKind.INFLUENCE, False),  # the one mentioning draws attention to the other
    Verb.ANSWER_ACCEPTED: (LineKind.INFLUENCE, False),  # the actor's answer helped the target
    Verb.MESSAGED: (LineKind.CONNECTION, False),
    Verb.MET: (LineKind.CONNECTION, False),
    Verb.CONTACTED: (LineKind.CONNECTION, False),
    Verb.INTRODUCED: (LineKind.CONNECTION, False),
    Verb.PROSPECTED: (LineKind.PROSPECTING, False),
}
# Verbs that tie a person to the place they happened in (a space, event or group).
PLACE_VERBS = (
    Verb.POSTED,
    Verb.REPLIED,
    Verb.JOINED_SPACE,
    Verb.REGISTERED,
    Verb.ATTENDED,
    Verb.HOSTED,
    Verb.SPOKE,
    Verb.SUBMITTED_IDEA,
    Verb.VOTED,
    Verb.COMMENTED,
    Verb.JOINED_GROUP,
    Verb.REACTED,
    Verb.QUOTED,
)

DEFAULT_VERB_WEIGHTS: dict[str, float] = {
    Verb.POSTED: 1.0,
    Verb.REPLIED: 3.0,
    Verb.MENTIONED: 2.0,
    Verb.REACTED: 1.0,
    Verb.QUOTED: 3.0,
    Verb.ANSWER_ACCEPTED: 4.0,
    Verb.JOINED_SPACE: 1.0,
    Verb.LEFT_SPACE: 0.0,
    Verb.MESSAGED: 2.0,
    Verb.REGISTERED: 1.0,
    Verb.ATTENDED: 2.0,
    Verb.HOSTED: 3.0,
    Verb.SPOKE: 3.0,
    Verb.SUBMITTED_IDEA: 2.0,
    Verb.VOTED: 1.0,
    Verb.COMMENTED: 1.0,
    Verb.JOINED_GROUP: 2.0,
    Verb.REVIEWED: 2.0,
    Verb.PUBLISHED: 2.0,
    Verb.MET: 3.0,
    Verb.CONTACTED: 1.0,
    Verb.INTRODUCED: 2.0,
    Verb.PROSPECTED: 1.0,
}
# A declared relationship counts its strength times this; an affiliation counts this much.
DECLARED_WEIGHT = 2.0
AFFILIATION_WEIGHT = 1.0


def verb_weights(text: str | None = None) -> dict[str, float]:
    """The weights per verb: the defaults, overridden by `text` (default: the
    CONVENOR_MAP_WEIGHTS setting, "replied=3,reacted=0.5"). Raises ApplicationError(VALIDATION)
    naming the pair at fault."""
    from convenor.core.errors import invalid

    weights = {str(k): v for k, v in DEFAULT_VERB_WEIGHTS.items()}
    raw = getattr(settings, "MAP_WEIGHTS", "") if text is None else text
    for pair in (p.strip() for p in (raw or "").split(",")):
        if not pair:
            continue
        verb, sep, value = (x.strip() for x in pair.partition("="))
        if not sep or verb not in weights:
            raise invalid(
                f"CONVENOR_MAP_WEIGHTS: {pair!r} is not verb=weight with a known verb ({', '.join(sorted(weights))}).",
                CONVENOR_MAP_WEIGHTS=pair,
            )
        try:
            w = float(value)
        except ValueError:
            w = -1.0
        if not 0 <= w <= 1000 or w != w:
            raise invalid(f"CONVENOR_MAP_WEIGHTS: the weight in {pair!r} must be a number from 0 to 1000.",
                          CONVENOR_MAP_WEIGHTS=pair)  # fmt: skip
        weights[verb] = w
    return weights


def basis_names(bits: int) -> list[str]:
    return [name for i, name in enumerate(BASIS) if bits >> i & 1]


def node_key(kind: str, ref: I64) -> I64:
    return np.int64(KIND_CODE[kind]) * KEY_SHIFT + ref.astype(np.int64)


def conduit_ref(name: str) -> int:
    """A conduit's stable reference id: the CRC-32 of its source name (conduits have no table)."""
    return zlib.crc32(name.encode())


@dataclass
class Raw:
    """Line evidence before folding: one row per (kind, source key, target key, verb group)."""

    kind: list[I64] = field(default_factory=list)
    src: list[I64] = field(default_factory=list)
    dst: list[I64] = field(default_factory=list)
    weight: list[F64] = field(default_factory=list)
    count: list[I64] = field(default_factory=list)
    first: list[I64] = field(default_factory=list)
    last: list[I64] = field(default_factory=list)
    basis: list[I64] = field(default_factory=list)
    self_loops: int = 0

    def add(self, kind: I64, src: I64, dst: I64, weight: F64, count: I64, first: I64, last: I64, basis: I64) -> None:
        if len(src):
            self.kind.append(kind)
            self.src.append(src)
            self.dst.append(dst)
            self.weight.append(weight)
            self.count.append(count)
            self.first.append(first)
            self.last.append(last)
            self.basis.append(basis)


@dataclass
class Lines:
    """The folded map: node keys (sorted) and one entry per line, ends as node positions."""

    keys: I64
    kind: I64
    src: I64
    dst: I64
    weight: F64
    evidence: I64
    first: I64  # epoch seconds, -1 when unknown
    last: I64
    basis: I64
    self_loops: int = 0
    activities: int = 0
    last_activity_id: int = 0

    @property
    def n(self) -> int:
        return len(self.keys)

    @property
    def node_kind(self) -> I64:
        return (self.keys // KEY_SHIFT).astype(np.int64)

    @property
    def node_ref(self) -> I64:
        return (self.keys % KEY_SHIFT).astype(np.int64)


def _epoch_sql(expr: str) -> str:
    if connection.vendor == "postgresql":
        # FLOOR: whole seconds cut, as SQLite's strftime('%s') cuts them (a CAST rounds).
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {expr})) AS BIGINT)"
    if sqlite3.sqlite_version_info >= (3, 38, 0):
        # The same whole seconds (SQLite computes both alike), without making them a text and
        # reading it back: a fifth of reading the declarations in force.
        return f"unixepoch({expr})"
    return f"CAST(strftime('%%s', {expr}) AS INTEGER)"


def fetch_columns(sql: str, params: Sequence[Any], ncols: int) -> list[npt.NDArray[np.object_]]:
    """Run an aggregate query and return its columns as arrays (rows are groups, not activities)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return [np.empty(0, dtype=object) for _ in range(ncols)]
    table = np.array(rows, dtype=object)
    return [table[:, i] for i in range(ncols)]


def int_array(col: npt.NDArray[np.object_]) -> I64:
    return np.asarray(col, dtype=np.int64) if len(col) else np.empty(0, dtype=np.int64)


def _verb_arrays(verbs: npt.NDArray[np.object_], weights: dict[str, float]) -> tuple[F64, I64]:
    """Per group: the verb's weight and its basis bit."""
    names = np.asarray(verbs, dtype=str) if len(verbs) else np.empty(0, dtype=str)
    uniq, inv = np.unique(names, return_inverse=True)
    w = np.array([weights.get(str(u), 1.0) for u in uniq], dtype=np.float64)
    b = np.array([1 << BASIS_BIT[str(u)] if str(u) in BASIS_BIT else 0 for u in uniq], dtype=np.int64)
    return w[inv], b[inv]


@dataclass(frozen=True)
class Slice:
    """Which activity rows to read: those that occurred in [start, end] (either end open when
    `start_open` or `end_open`), numbered above `min_id` and up to `max_id` when given (the
    watermarks of two builds), and optionally only those whose actor is listed in the temporary
    table `actors_table` (column `id`)."""

    start: datetime
    end: datetime
    start_open: bool = False
    end_open: bool = False
    min_id: int | None = None
    max_id: int | None = None
    actors_table: str | None = None

    def sql(self) -> tuple[str, list[Any]]:
        after, before = (">" if self.start_open else ">="), ("<" if self.end_open else "<=")
        clause = f"occurred_at {after} %s AND occurred_at {before} %s"
        params: list[Any] = [self.start, self.end]
        if self.min_id is not None:
            clause += " AND id > %s"
            params.append(self.min_id)
        if self.max_id is not None:
            clause += " AND id <= %s"
            params.append(self.max_id)
        if self.actors_table:
            clause += f" AND actor_id IN (SELECT id FROM {self.actors_table})"  # noqa: S608  # a fixed table name
        return clause, params


def merge_raw(*parts: Raw) -> Raw:
    """Several bundles of groups as one (fold adds up groups of the same line)."""
    out = Raw()
    for p in parts:
        for name in ("kind", "src", "dst", "weight", "count", "first", "last", "basis"):
            getattr(out, name).extend(getattr(p, name))
        out.self_loops += p.self_loops
    return out


def gather(*, start: datetime, end: datetime, weights: dict[str, float], max_id: int | None = None) -> Raw:
    """Read every source of lines for the window [start, end] into a `Raw` bundle (activity
    numbered up to `max_id` when given)."""
    raw = gather_activity(Slice(start=start, end=end, max_id=max_id), weights)
    gather_declared(raw, start=start, end=end)
    return raw


def gather_activity(part: Slice, weights: dict[str, float]) -> Raw:
    """Read the activity rows of `part` into a `Raw` bundle: one scan of the log, every row as
    small integers (its verb, place kind and conduit numbered in SQL), sorted out into the four
    sources of lines by numpy; `fold` then adds up each line's rows. (Four GROUP BY queries took
    five scans and, on SQLite, as many sorts of the whole window in temporary B-trees.)"""
    raw = Raw()
    rows, conduits = _activity_rows(part)
    if not len(rows):
        return raw
    a, tm, to, pk, pid, vc, sc, at = (np.ascontiguousarray(rows[c]) for c in _ROW_DTYPE.names or ())
    verbs = (*_VERBS, "")  # code -1 (a verb unknown here) reads the last entry
    w_of = np.array([weights.get(v, 1.0) for v in verbs], dtype=np.float64)
    bit_of = np.array([1 << BASIS_BIT[v] if v in BASIS_BIT else 0 for v in verbs], dtype=np.int64)
    w, bits = w_of[vc], bit_of[vc]
    live = w > 0

    # 1. Between people: the verb's kind of line and its direction.
    is_person = np.array([v in PERSON_VERBS for v in verbs])
    line_of = np.array([LINE_CODE[PERSON_VERBS[v][0]] if v in PERSON_VERBS else 0 for v in verbs], dtype=np.int64)
    flip_of = np.array([PERSON_VERBS[v][1] if v in PERSON_VERBS else False for v in verbs])
    sel = (tm >= 0) & is_person[vc] & live
    loops = sel & (a == tm)
    raw.self_loops = int(loops.sum())
    sel &= ~loops
    if sel.any():
        s_a, s_t, s_v = a[sel], tm[sel], vc[sel]
        flip = flip_of[s_v]
        src, dst = np.where(flip, s_t, s_a), np.where(flip, s_a, s_t)
        _add_rows(raw, line_of[s_v], node_key(NodeKind.MEMBER, src), node_key(NodeKind.MEMBER, dst), w[sel],
                  at[sel], bits[sel])  # fmt: skip

    # 2. People and the places they act in: participation.
    is_place = np.array([v in _PLACE_VERB_NAMES for v in verbs])
    sel = (pk > 0) & (pid >= 0) & is_place[vc] & live
    if sel.any():
        place_codes = np.array([0, *(KIND_CODE[PLACE_KINDS[k]] for k in _PLACE_KIND_NAMES)], dtype=np.int64)
        place = place_codes[pk[sel]] * KEY_SHIFT + pid[sel]
        n = int(sel.sum())
        _add_rows(raw, np.full(n, LINE_CODE[LineKind.PARTICIPATION]), node_key(NodeKind.MEMBER, a[sel]), place,
                  w[sel], at[sel], bits[sel])  # fmt: skip

    # 3. People acting on an organisation: prospecting when commercial, a connection otherwise.
    sel = (to >= 0) & live
    if sel.any():
        kind = np.where(vc[sel] == _VERBS.index(str(Verb.PROSPECTED)), LINE_CODE[LineKind.PROSPECTING],
                        LINE_CODE[LineKind.CONNECTION]).astype(np.int64)  # fmt: skip
        _add_rows(raw, kind, node_key(NodeKind.MEMBER, a[sel]), node_key(NodeKind.ORGANIZATION, to[sel]), w[sel],
                  at[sel], bits[sel])  # fmt: skip

    # 4. Outside conduits: information channels between a person and the conduit they speak in.
    sel = sc >= 0
    if sel.any():
        refs = np.array([conduit_ref(s) for s in conduits], dtype=np.int64)[sc[sel]]
        n = int(sel.sum())
        # Speaking in a conduit is a channel whatever the verb's own weight.
        _add_rows(raw, np.full(n, LINE_CODE[LineKind.CHANNEL]), node_key(NodeKind.MEMBER, a[sel]),
                  node_key(NodeKind.CONDUIT, refs), np.where(live[sel], w[sel], 1.0), at[sel], bits[sel])  # fmt: skip
    return raw


_VERBS: tuple[str, ...] = tuple(str(v) for v in Verb.values)
_PLACE_VERB_NAMES = frozenset(str(v) for v in PLACE_VERBS)
_PLACE_KIND_NAMES: tuple[str, ...] = tuple(PLACE_KINDS)  # numbered 1.. in SQL, 0 for none


def _add_rows(raw: Raw, kind: I64, src: I64, dst: I64, weight: F64, at: I64, bits: I64) -> None:
    """One activity per row: a count of 1, seen at `at`."""
    raw.add(kind, src, dst, weight, np.ones(len(src), dtype=np.int64), at, at.copy(), bits)


_ROW_DTYPE = np.dtype([(name, np.int64) for name in ("actor", "member", "org", "place_kind", "place", "verb",
                                                     "conduit", "at")])  # fmt: skip


def _activity_rows(part: Slice, *, again: bool = True) -> tuple[npt.NDArray[np.void], list[str]]:
    """Every activity row of `part` as integers: actor, target member (-1 for none), target
    organisation (-1), place kind (1.. in `_PLACE_KIND_NAMES`, 0 for none), place id (-1), verb
    (its place in `_VERBS`, -1 when unknown), conduit (its place in the names returned with the
    rows, -1 for native activity) and when it occurred (epoch seconds). Read in one pass,
    straight into numpy."""
    act = Activity._meta.db_table
    when, window = part.sql()
    conduits = _conduits()
    natives = ",".join(["%s"] * len(NATIVE_SOURCES))
    conduit_sql = "".join(f" WHEN %s THEN {i}" for i in range(len(conduits)))
    conduit_sql = f"CASE source{conduit_sql} ELSE -2 END" if conduits else "-2"
    verb_sql = "".join(f" WHEN %s THEN {i}" for i in range(len(_VERBS)))
    place_sql = "".join(f" WHEN %s THEN {i + 1}" for i in range(len(_PLACE_KIND_NAMES)))
    sql = (
        f"SELECT actor_id, COALESCE(target_member_id, -1), COALESCE(target_org_id, -1),"  # noqa: S608  # fixed table name and placeholders; values are parameters
        f" CASE place_kind{place_sql} ELSE 0 END, COALESCE(place_id, -1), CASE verb{verb_sql} ELSE -1 END,"
        f" CASE WHEN source IN ({natives}) THEN -1 ELSE {conduit_sql} END,"
        f" {_epoch_sql('occurred_at')}"
        f" FROM {act}{_scan_hint(part)} WHERE {when}"
    )
    params = [*_PLACE_KIND_NAMES, *_VERBS, *NATIVE_SOURCES, *conduits, *window]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Rows from the driver's own cursor: Django's wrapper hands them on one by one through
        # a generator of its own, a tenth of reading them.
        table = np.fromiter(cursor.cursor, dtype=_ROW_DTYPE)
    if again and len(table) and (table["conduit"] == -2).any():
        # A conduit first seen after the names were read (only when nothing bounds the rows by id).
        return _activity_rows(part, again=False)
    return table, conduits


def _conduits() -> list[str]:
    """The names of the outside conduits in the log: its distinct sources other than the native
    ones, found by leaping through the index on (source, origin_id), one look-up per source."""
    act = Activity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE s(name) AS (SELECT MIN(source) FROM {act}"  # noqa: S608  # fixed table name
            f" UNION ALL SELECT (SELECT MIN(source) FROM {act} WHERE source > s.name) FROM s WHERE s.name IS NOT NULL)"
            " SELECT name FROM s WHERE name IS NOT NULL"
        )
        names = [str(r[0]) for r in cursor.fetchall()]
    return [n for n in names if n not in NATIVE_SOURCES]


def _scan_hint(part: Slice) -> str:
    """On SQLite, read the table straight through (NOT INDEXED) when the slice is a window over
    a good part of the log: following the time index instead visits the rows in time order, a
    random page of the table for each (and SQLite, with no statistics, always prefers it)."""
    if connection.vendor != "sqlite" or part.min_id is not None or part.actors_table:
        return ""
    act = Activity._meta.db_table
    # Each end in a subquery of its own: SQLite reads a lone MIN or MAX off the end of the time
    # index, but both in one query (or inside an expression) scan the whole index.
    first, last = f"(SELECT MIN(occurred_at) FROM {act})", f"(SELECT MAX(occurred_at) FROM {act})"  # noqa: S608  # fixed table name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_epoch_sql(first)}, {_epoch_sql(last)}", [])
        lo, hi = cursor.fetchone()
    if lo is None or hi is None or hi <= lo:
        return ""
    span = min(hi, part.end.timestamp()) - max(lo, part.start.timestamp())
    return " NOT INDEXED" if span >= 0.25 * (hi - lo) else ""


def gather_declared(raw: Raw, *, start: datetime, end: datetime, ends_table: str | None = None) -> Raw:
    """Add the declared relationships and affiliations in force during [start, end] to `raw`;
    with `ends_table` (a table of node keys, column `key`), only those whose both ends are in it.

    Each row is read as numbers (the kind numbered, missing ends as -1, dates as epoch seconds, all
    in SQL) straight into numpy: the daily update reads every declaration in force each time, and
    a row of Python objects (a text, four ids or None, two times) cost four times as much."""
    # 5. Declared relationships in force during the window: connections.
    rel = Relationship._meta.db_table
    day_from, day_to = start.date(), end.date()
    kinds = [str(k) for k in RelationshipKind.values]
    kind_sql = "".join(f" WHEN %s THEN {i}" for i in range(len(kinds)))
    with connection.cursor() as cursor:
        # Each end as its node key, made in SQL (a member's or an organisation's): fewer values a row.
        member, org = KIND_CODE[NodeKind.MEMBER] * KEY_SHIFT, KIND_CODE[NodeKind.ORGANIZATION] * KEY_SHIFT
        src_sql = f"COALESCE({member} + source_member_id, {org} + source_org_id)"
        dst_sql = f"COALESCE({member} + target_member_id, {org} + target_org_id)"
        cursor.execute(
            f"SELECT CASE kind{kind_sql} ELSE -1 END, {src_sql}, {dst_sql}, strength,"  # noqa: S608  # fixed table names and placeholders; values are parameters
            f" COALESCE({_epoch_sql('started_on')}, {_epoch_sql('created_at')}) FROM {rel}"
            f" WHERE (started_on IS NULL OR started_on <= %s) AND (ended_on IS NULL OR ended_on >= %s)"
            + _both_in(ends_table, src_sql, dst_sql),
            [*kinds, day_to, day_from],
        )
        rels = np.fromiter(cursor.cursor, dtype=_DECLARED_DTYPE)
    if len(rels):
        src, dst = np.ascontiguousarray(rels["src"]), np.ascontiguousarray(rels["dst"])
        since = np.ascontiguousarray(rels["since"])
        bit_of = np.array([*(1 << BASIS_BIT[f"declared:{k}"] for k in kinds), 0], dtype=np.int64)  # -1: the last
        n = len(src)
        raw.add(np.full(n, LINE_CODE[LineKind.CONNECTION]), src, dst,
                np.ascontiguousarray(rels["strength"]) * DECLARED_WEIGHT, np.ones(n, dtype=np.int64), since,
                since.copy(), bit_of[rels["kind"]])  # fmt: skip

    # 6. Affiliations in force during the window: a person's connection to their organisation.
    aff = Affiliation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, organization_id, COALESCE({_epoch_sql('started_on')}, -1) FROM {aff}"  # noqa: S608  # fixed table names and placeholders; values are parameters
            f" WHERE (started_on IS NULL OR started_on <= %s) AND (ended_on IS NULL OR ended_on >= %s)"
            + _both_in(ends_table, f"{member} + member_id", f"{org} + organization_id"),
            [day_to, day_from],
        )
        affs = np.fromiter(cursor.cursor, dtype=_AFFILIATION_DTYPE)
    if len(affs):
        n = len(affs)
        since = np.ascontiguousarray(affs["since"])
        raw.add(np.full(n, LINE_CODE[LineKind.CONNECTION]),
                node_key(NodeKind.MEMBER, np.ascontiguousarray(affs["member"])),
                node_key(NodeKind.ORGANIZATION, np.ascontiguousarray(affs["org"])), np.full(n, AFFILIATION_WEIGHT),
                np.ones(n, dtype=np.int64), since, since.copy(),
                np.full(n, 1 << BASIS_BIT["affiliated"], dtype=np.int64))  # fmt: skip
    return raw


def _both_in(table: str | None, a: str, b: str) -> str:
    if table is None:
        return ""
    return f" AND {a} IN (SELECT key FROM {table}) AND {b} IN (SELECT key FROM {table})"  # noqa: S608  # fixed names


_DECLARED_DTYPE = np.dtype([("kind", np.int64), ("src", np.int64), ("dst", np.int64), ("strength", np.float64),
                            ("since", np.int64)])  # fmt: skip
_AFFILIATION_DTYPE = np.dtype([("member", np.int64), ("org", np.int64), ("since", np.int64)])


_POSITION_BITS = np.int64(30)
_POSITION_MASK = np.int64((1 << 30) - 1)


def factorize(keys: I64) -> tuple[I64, I64]:
    """`np.unique(keys, return_inverse=True)` for node keys (kind code times KEY_SHIFT plus a
    reference id), the same arrays, without sorting them: the ids of each kind of node are a
    table's primary keys, mostly dense, so each kind's distinct ids are found by marking them in
    a table of its id range and counting (conduits, whose references are hashes, by sorting)."""
    if not len(keys):
        return keys.astype(np.int64), np.empty(0, dtype=np.int64)
    kind = keys // KEY_SHIFT
    if kind.min() < 0:
        uniq, inv = np.unique(keys, return_inverse=True)
        return uniq, inv.astype(np.int64)
    inv = np.empty(len(keys), dtype=np.int64)
    parts: list[I64] = []
    base = 0
    for k in np.flatnonzero(np.bincount(kind)).tolist():
        sel = kind == k
        refs = keys[sel] - np.int64(k) * KEY_SHIFT
        top = int(refs.max())
        if top <= 4 * len(refs) + (1 << 20):
            seen = np.zeros(top + 1, dtype=bool)
            seen[refs] = True
            found = np.flatnonzero(seen).astype(np.int64)
            rank = np.cumsum(seen, dtype=np.int64) - 1
            at = rank[refs]
        else:
            found, at = np.unique(refs, return_inverse=True)
        inv[sel] = base + at
        parts.append(found + np.int64(k) * KEY_SHIFT)
        base += len(found)
    return np.concatenate(parts), inv


def fold(raw: Raw, *, keep_weightless: bool = False) -> Lines:
    """Fold the groups into one line per (kind, ends): weights and evidence summed, times spanned,
    bases joined. Undirected lines keep the smaller node first; self-loops are dropped and counted.
    Lines of no weight are dropped too, unless `keep_weightless` (the daily update's bookkeeping)."""
    if not raw.src:
        empty = np.empty(0, dtype=np.int64)
        return Lines(empty, empty, empty, empty, np.empty(0), empty, empty, empty, empty, self_loops=raw.self_loops)
    # (astype without a copy: the parts are int64 and float64 already, and a copy of ten million
    # values costs.)
    kind = np.concatenate(raw.kind).astype(np.int64, copy=False)
    src_k = np.concatenate(raw.src)
    dst_k = np.concatenate(raw.dst)
    weight = np.concatenate(raw.weight).astype(np.float64, copy=False)
    count = np.concatenate(raw.count).astype(np.int64, copy=False)
    first = np.concatenate(raw.first).astype(np.int64, copy=False)
    last = np.concatenate(raw.last).astype(np.int64, copy=False)
    basis = np.concatenate(raw.basis).astype(np.int64, copy=False)

    loops = src_k == dst_k
    self_loops = int(loops.sum()) + raw.self_loops
    if loops.any():
        keep = ~loops
        kind, src_k, dst_k, count, first, last, basis = (
            x[keep] for x in (kind, src_k, dst_k, count, first, last, basis)
        )
        weight = weight[keep]
    keys, inv = factorize(np.concatenate([src_k, dst_k]))
    src = inv[: len(src_k)]
    dst = inv[len(src_k) :]
    undirected = ~np.isin(kind, list(DIRECTED_LINES))
    swap = undirected & (src > dst)
    src, dst = np.where(swap, dst, src), np.where(swap, src, dst)

    if len(keys) <= _POSITION_MASK and (not len(kind) or 0 <= kind.min() <= kind.max() < 8):
        # The order of (kind, source, target) as one number each: one stable sort of it is
        # lexsort's order (and several times faster), and its neighbours tell where lines change.
        code = (kind << np.int64(60)) | (src << _POSITION_BITS) | dst
        order = np.argsort(code, kind="stable")
        code = code[order]
        kind, src, dst = code >> np.int64(60), (code >> _POSITION_BITS) & _POSITION_MASK, code & _POSITION_MASK
        count, first, last, basis = (x[order] for x in (count, first, last, basis))
        weight = weight[order]
        new = np.ones(len(kind), dtype=bool)
        new[1:] = code[1:] != code[:-1]
    else:
        order = np.lexsort((dst, src, kind))
        kind, src, dst, count, first, last, basis = (x[order] for x in (kind, src, dst, count, first, last, basis))
        weight = weight[order]
        new = np.ones(len(kind), dtype=bool)
        new[1:] = (kind[1:] != kind[:-1]) | (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    if len(kind):
        starts = np.flatnonzero(new)
        first_known = np.where(first < 0, np.iinfo(np.int64).max, first)
        first_f = np.minimum.reduceat(first_known, starts)
        first_f = np.where(first_f == np.iinfo(np.int64).max, -1, first_f)
        lines = Lines(
            keys=keys,
            kind=kind[starts],
            src=src[starts],
            dst=dst[starts],
            weight=np.add.reduceat(weight, starts),
            evidence=np.add.reduceat(count, starts),
            first=first_f,
            last=np.maximum.reduceat(last, starts),
            basis=np.bitwise_or.reduceat(basis, starts),
            self_loops=self_loops,
        )
        # Lines whose every piece of evidence weighs nothing are not lines.
        real = lines.weight > 0
        if not keep_weightless and not real.all():
            lines = restrict(lines, real)
        return lines
    empty = np.empty(0, dtype=np.int64)
    return Lines(keys, empty, empty, empty, np.empty(0), empty, empty, empty, empty, self_loops=self_loops)


def restrict(lines: Lines, keep: npt.NDArray[np.bool_]) -> Lines:
    """Keep some lines, and only the nodes they still touch."""
    src, dst = lines.src[keep], lines.dst[keep]
    used = np.unique(np.concatenate([src, dst]))
    remap = np.full(lines.n, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return Lines(
        keys=lines.keys[used],
        kind=lines.kind[keep],
        src=remap[src],
        dst=remap[dst],
        weight=lines.weight[keep],
        evidence=lines.evidence[keep],
        first=lines.first[keep],
        last=lines.last[keep],
        basis=lines.basis[keep],
        self_loops=lines.self_loops,
        activities=lines.activities,
        last_activity_id=lines.last_activity_id,
    )


@dataclass
class NodeInfo:
    """Labels and attributes of the nodes, aligned with `Lines.keys`."""

    label: list[str]
    role: list[str]
    org_id: I64  # -1 when none


def describe(lines: Lines) -> NodeInfo:
    """Labels, roles and organisations of the nodes, read in bulk per kind."""
    from convenor.events.models import Event
    from convenor.spaces.models import Space

    n = lines.n
    label = [""] * n
    role = [""] * n
    org = np.full(n, -1, dtype=np.int64)
    kinds, refs = lines.node_kind, lines.node_ref

    def fill(kind: str, rows: list[tuple[int, str, str]]) -> npt.NDArray[np.int64]:
        pos = np.flatnonzero(kinds == KIND_CODE[kind])
        if not len(pos):
            return pos
        by_id = {r[0]: r for r in rows}
        for p in pos.tolist():
            row = by_id.get(int(refs[p]))
            if row is None:
                label[p] = f"{kind} #{int(refs[p])}"
            else:
                label[p] = row[1]
                role[p] = row[2]
        return pos

    def ids_of(kind: str) -> list[int]:
        return [int(x) for x in refs[kinds == KIND_CODE[kind]]]

    def chunked(model: type, fields: tuple[str, ...], ids: list[int]) -> list[tuple[int, str, str]]:
        # Raw SQL: the ORM takes each id of an IN list through its lookup machinery, which cost
        # most of describe's time at a million people.
        table = model._meta.db_table  # type: ignore[attr-defined]
        return rows_where_in(table=table, columns=fields, fixed={}, key="id", values=ids)

    fill(NodeKind.MEMBER, chunked(Member, ("id", "name", "role"), ids_of(NodeKind.MEMBER)))
    org_pos = fill(NodeKind.ORGANIZATION, chunked(Organization, ("id", "name", "kind"), ids_of(NodeKind.ORGANIZATION)))
    org[org_pos] = refs[org_pos]
    fill(NodeKind.SPACE, chunked(Space, ("id", "name", "frame"), ids_of(NodeKind.SPACE)))
    fill(NodeKind.EVENT, chunked(Event, ("id", "title", "frame"), ids_of(NodeKind.EVENT)))
    for p in np.flatnonzero(kinds == KIND_CODE[NodeKind.GROUP]).tolist():
        label[p] = f"group #{int(refs[p])}"
    conduit_pos = np.flatnonzero(kinds == KIND_CODE[NodeKind.CONDUIT])
    if len(conduit_pos):
        by_ref = {conduit_ref(s): s for s in _conduits()}
        for p in conduit_pos.tolist():
            label[p] = by_ref.get(int(refs[p]), f"conduit #{int(refs[p])}")

    # A person's organisation: their lowest-numbered current affiliation.
    member_pos = np.flatnonzero(kinds == KIND_CODE[NodeKind.MEMBER])
    if len(member_pos):
        rows = np.array(
            list(
                Affiliation.objects.filter(ended_on__isnull=True)
                .values_list("member_id", "organization_id")
                .order_by("member_id", "organization_id")
            ),
            dtype=np.int64,
        ).reshape(-1, 2)
        if len(rows):
            first = np.ones(len(rows), dtype=bool)
            first[1:] = rows[1:, 0] != rows[:-1, 0]
            m_ids, o_ids = rows[first, 0], rows[first, 1]
            refs_m = refs[member_pos]
            at = np.searchsorted(m_ids, refs_m)
            at_c = np.minimum(at, len(m_ids) - 1)
            hit = m_ids[at_c] == refs_m
            org[member_pos[hit]] = o_ids[at_c[hit]]
    return NodeInfo(label=label, role=role, org_id=org)
