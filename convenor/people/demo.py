"""The demo business community: our company, its customers, suppliers, partners,
competitors, prospects and customers' customers, with their people and the lines between them.

`build_demo` makes a community of any size from 200 to 1,000,000 members. The same seed
gives the same community. Every column is generated with numpy and written with the
DB-API ``executemany`` in one transaction, with explicit ids for the tables that others
point at, so foreign keys are computed rather than read back. Going through the services
row by row would take hours at a million members; this takes about a minute (see
docs/demo.md and bench/demo_scale.py). The rows still satisfy every database constraint:
nothing is disabled, so a mistake here fails loudly instead of leaving bad data.
"""

from __future__ import annotations

import functools
import importlib
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction

from convenor.activity.models import Activity, Verb
from convenor.core.arrays import sorted_unique
from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.core.models import StaffRole, User
from convenor.people.models import (
    SYMMETRIC_KINDS,
    Affiliation,
    Domain,
    Identity,
    Member,
    Organization,
    OrgKind,
    Relationship,
    RelationshipKind,
    Role,
)
from convenor.people.services import interests_resolve, our_company

DEMO_SOURCE = "demo"
DEMO_PASSWORD = "convenor-demo"  # noqa: S105  # published in the docs: the demo's shared password
MIN_MEMBERS = 200
MAX_MEMBERS = 1_000_000
CHUNK = 50_000

IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]
Progress = Callable[[int, int], None]

_DATA = Path(__file__).resolve().parent / "demo_data"


@functools.cache
def _words(name: str) -> list[str]:
    """A word list from demo_data/, in alphabetical order of its email-address form."""
    words = {w.strip() for w in (_DATA / f"{name}.txt").read_text().splitlines() if w.strip()}
    return sorted(words, key=lambda w: (_compact(w), w))


# (kind, role, share of members, average people per organisation, fewest organisations).
# Customers are the bulk of the community; customers' customers take what is left over.
_KINDS: list[tuple[str, str, float, float, int]] = [
    (OrgKind.OURS, Role.EMPLOYEE, 0.065, 0, 1),
    (OrgKind.CUSTOMER, Role.CUSTOMER, 0.60, 18, 4),
    (OrgKind.PROSPECT, Role.PROSPECT, 0.10, 6, 2),
    (OrgKind.SUPPLIER, Role.SUPPLIER, 0.06, 12, 2),
    (OrgKind.PARTNER, Role.PARTNER, 0.055, 10, 2),
    (OrgKind.COMPETITOR, Role.COMPETITOR_CONTACT, 0.035, 25, 3),
    (OrgKind.CUSTOMERS_CUSTOMER, Role.OTHER, 0.0, 8, 2),
]
_K_OURS, _K_CUSTOMER, _K_PROSPECT, _K_SUPPLIER, _K_PARTNER, _K_COMPETITOR, _K_CC = range(7)

_HEADS = ["Chief Executive Officer", "Managing Director", "President", "Founder"]
# Titles by kind of organisation and level: 0 heads it, 1 reports to the head, 2 the rest.
_TITLES: dict[int, tuple[list[str], list[str], list[str]]] = {
    _K_OURS: (
        ["Chief Executive Officer"],
        [
            "VP Sales",
            "VP Engineering",
            "VP Product",
            "Head of Customer Success",
            "Head of Marketing",
            "Chief Financial Officer",
        ],
        [
            "Account Executive",
            "Solutions Engineer",
            "Software Engineer",
            "Product Manager",
            "Customer Success Manager",
            "Support Engineer",
            "Marketing Manager",
            "Community Manager",
            "Sales Development Representative",
            "Data Scientist",
            "Technical Writer",
            "Designer",
        ],
    ),
    _K_CUSTOMER: (
        _HEADS,
        [
            "Chief Technology Officer",
            "Chief Information Officer",
            "VP Operations",
            "Head of Data",
            "IT Director",
            "Head of Procurement",
            "Chief Financial Officer",
        ],
        [
            "Data Engineer",
            "Operations Manager",
            "IT Manager",
            "Business Analyst",
            "Procurement Specialist",
            "Software Developer",
            "Project Manager",
            "Systems Administrator",
            "Finance Manager",
            "Data Analyst",
            "Logistics Coordinator",
            "Product Owner",
        ],
    ),
    _K_SUPPLIER: (
        _HEADS,
        ["Head of Sales", "VP Partnerships", "Director of Operations"],
        [
            "Account Manager",
            "Sales Engineer",
            "Support Specialist",
            "Logistics Coordinator",
            "Customer Service Representative",
        ],
    ),
    _K_PARTNER: (
        _HEADS,
        ["Head of Alliances", "VP Consulting", "Practice Lead"],
        ["Implementation Consultant", "Solutions Architect", "Partner Manager", "Trainer"],
    ),
    _K_COMPETITOR: (
        ["Chief Executive Officer", "Founder"],
        ["VP Product", "VP Sales", "Head of Marketing"],
        ["Product Marketing Manager", "Developer Advocate", "Sales Engineer", "Software Engineer"],
    ),
}
_TITLES[_K_PROSPECT] = _TITLES[_K_CUSTOMER]
_TITLES[_K_CC] = _TITLES[_K_CUSTOMER]

_FORMS = [
    "",
    " Group",
    " Inc.",
    " Ltd",
    " & Co.",
    " Holdings",
    " International",
    " Labs",
    " Works",
    " Partners",
]
_FANOUT = 5  # people reporting to one manager
_VERBS = [str(Verb.MESSAGED), str(Verb.MET), str(Verb.CONTACTED), str(Verb.INTRODUCED)]
_ACTIVITY_DAYS = 548  # eighteen months


@dataclass(frozen=True)
class DemoLogin:
    email: str
    who: str
    created: bool = True


@dataclass
class DemoResult:
    """What `build_demo` did: counts by table and kind, and the logins to try."""

    built: bool
    members: int = 0
    seconds: float = 0.0
    rows: int = 0
    members_by_role: dict[str, int] = field(default_factory=dict)
    orgs_by_kind: dict[str, int] = field(default_factory=dict)
    relationships_by_kind: dict[str, int] = field(default_factory=dict)
    affiliations: int = 0
    identities: int = 0
    interests: int = 0
    member_interests: int = 0
    activities: int = 0
    logins: list[DemoLogin] = field(default_factory=list)
    # Rows written for the conversations in spaces, by table, and a few totals.
    conversations: dict[str, int] = field(default_factory=dict)
    # Rows written for the events, by table, and how many are past and mismatched.
    events: dict[str, int] = field(default_factory=dict)
    # What each later app's demo step added (see DEMO_STEPS), by app, then by kind.
    extras: dict[str, dict[str, int]] = field(default_factory=dict)
    # Seconds each of those steps took, by app.
    step_seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.built:
            return "demo already built; use --reset to rebuild"
        lines = [f"Built the demo community in {self.seconds:.1f}s ({self.rows:,} rows)."]

        def block(title: str, counts: dict[str, int]) -> None:
            lines.append(f"{title}: {sum(counts.values()):,}")
            lines.extend(f"  {k:<20} {v:>10,}" for k, v in counts.items() if v)

        block("Members by role", self.members_by_role)
        block("Organisations by kind", self.orgs_by_kind)
        block("Relationships by kind", self.relationships_by_kind)
        lines.append(f"Affiliations: {self.affiliations:,}")
        lines.append(f"Identities: {self.identities:,}")
        lines.append(f"Interests: {self.interests:,} ({self.member_interests:,} picks by members)")
        lines.append(f"Activities: {self.activities:,}")
        if self.conversations:
            c = self.conversations
            lines.append(
                f"Conversations: {c.get('spaces', 0):,} spaces, {c.get('threads', 0):,} threads, "
                f"{c.get('posts', 0):,} posts, {c.get('reactions', 0):,} reactions, "
                f"{c.get('memberships', 0):,} memberships ({c.get('activities', 0):,} activities)"
            )
        if self.events:
            ev = self.events
            lines.append(
                f"Events: {ev.get('events', 0):,} ({ev.get('past', 0):,} past, {ev.get('mismatched', 0):,} "
                f"mismatched), {ev.get('registrations', 0):,} registrations, {ev.get('surveys', 0):,} surveys "
                f"({ev.get('activities', 0):,} activities)"
            )
        for app, counts in self.extras.items():
            lines.append(f"{app}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        lines.append(f'Logins (password "{DEMO_PASSWORD}"):')
        for login in self.logins:
            note = "" if login.created else " (existing account; password unchanged)"
            lines.append(f"  {login.email:<40} {login.who}{note}")
        return "\n".join(lines)


# --- helpers ------------------------------------------------------------------------------


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[models.Model]) -> str:
    return model._meta.db_table


# Seconds spent per step of the last build (planning, each table, indexes, commit), for
# bench/demo_scale.py.
STEP_SECONDS: dict[str, float] = {}


@dataclass(frozen=True)
class Fixed:
    """A column with the same value in every row, written into the statement once."""

    value: bool | int | str | None


def _literal(value: bool | int | str | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # SQLite has known TRUE and FALSE since 3.23
    if isinstance(value, int):
        return str(value)
    # Our own constants (kinds, dates, ""), never user input; quoted the standard SQL way.
    assert "%" not in value, "a % would be taken for a placeholder"
    return "'" + value.replace("'", "''") + "'"


ROWS_PER_STATEMENT = 100


def _insert(cursor: Any, table: str, columns: dict[str, list[Any] | Fixed]) -> int:
    """Insert rows given column by column (lists of equal length); returns how many.

    Rows go ROWS_PER_STATEMENT at a time in one multi-row ``INSERT ... VALUES``, through
    ``executemany``: a statement per row would re-run SQLite's per-statement work
    (AUTOINCREMENT bookkeeping, CHECK set-up) a hundred times more often. Fixed columns are
    literals, so only the values that vary are bound.
    """
    started = time.perf_counter()
    names = list(columns)
    varying = [c for c in columns.values() if not isinstance(c, Fixed)]
    n = len(varying[0])
    row = "(" + ", ".join(_literal(c.value) if isinstance(c, Fixed) else "%s" for c in columns.values()) + ")"
    head = f"INSERT INTO {_qn(table)} ({', '.join(_qn(c) for c in names)}) VALUES "  # noqa: S608  # names are ours
    k = ROWS_PER_STATEMENT
    full = n - n % k
    rows = zip(*varying, strict=True)
    if full:
        # Flattened k rows at a time, all in C: zip(*[it] * m) takes m items per tuple.
        flat = chain.from_iterable(islice(rows, full))
        cursor.executemany(head + ", ".join([row] * k), zip(*[flat] * (k * len(varying)), strict=False))
    rest = list(rows)
    if rest:
        cursor.execute(head + ", ".join([row] * len(rest)), list(chain.from_iterable(rest)))
    STEP_SECONDS[table] = STEP_SECONDS.get(table, 0.0) + time.perf_counter() - started
    return n


def _drop_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the secondary indexes of `tables`; returns the statements that recreate them.

    Primary keys and indexes that back a constraint (PostgreSQL's UNIQUE constraints,
    SQLite's inline UNIQUE columns) stay, so those rules are checked row by row.
    """
    if connection.vendor == "sqlite":
        marks = ", ".join(["%s"] * len(tables))
        sql = f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"  # noqa: S608  # placeholders only
        cursor.execute(sql + " ORDER BY name", tables)
    elif connection.vendor == "postgresql":
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid ="
            " (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"
            " ORDER BY i.indexname",
            [tables],
        )
    else:
        return []
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f"DROP INDEX {_qn(name)}")
    return [sql for _, sql in found]


def _max_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT MAX(id) FROM {_qn(table)}")  # noqa: S608  # a model's own table name
    value = cursor.fetchone()[0]
    return int(value or 0)


def _timestamps(seconds: IntArray) -> list[str]:
    """Epoch seconds as the text Django's backends store and compare: naive UTC on SQLite."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text = np.strings.replace(text, "T", " ")
    if connection.vendor != "sqlite":
        text = np.strings.add(text, "+00:00")
    result: list[str] = text.tolist()
    return result


def _dates(days: IntArray) -> list[Any]:
    """Days since the epoch as ISO dates, None where negative."""
    text: ObjArray = np.datetime_as_string(np.maximum(days, 0).astype("datetime64[D]")).astype(object)
    text[days < 0] = None
    result: list[Any] = text.tolist()
    return result


def _numbered(rank: IntArray) -> ObjArray:
    """ "" for the first of a name, then "2", "3"...: jane.doe, jane.doe2."""
    out: ObjArray = np.where(rank > 0, (rank + 1).astype(str), "").astype(object)
    return out


def _group_rank(key: IntArray) -> IntArray:
    """For each item, how many earlier items share its key (0 for the first)."""
    order = np.argsort(key, kind="stable")
    sk = key[order]
    start = np.r_[True, sk[1:] != sk[:-1]]
    idx = np.arange(len(key))
    first = np.maximum.accumulate(np.where(start, idx, 0))
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = idx - first
    return rank


def _compact(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _ranges(total: int, chunk: int = CHUNK) -> Iterator[tuple[int, int]]:
    for lo in range(0, total, chunk):
        yield lo, min(total, lo + chunk)


# --- the plan -----------------------------------------------------------------------------


class _Locals:
    """The "first.last" part of an address for name pairs, indexed by
    ``first * n_last + last`` like an array of every pair, but only the pairs asked for are
    built (the table of every pair has 230,000 strings; a demo of 10,000 members needs 10,000)."""

    def __init__(self) -> None:
        self.firsts = np.array([_compact(w) + "." for w in _words("first_names")], dtype=object)
        self.lasts = np.array([_compact(w) for w in _words("last_names")], dtype=object)

    def of(self, first: IntArray, last: IntArray) -> ObjArray:
        out: ObjArray = self.firsts[first] + self.lasts[last]
        return out

    def __getitem__(self, pair: IntArray) -> ObjArray:
        first, last = np.divmod(pair, len(self.lasts))
        return self.of(first, last)


@dataclass
class _Plan:
    """Every column of the community as numpy arrays (strings come later, per chunk)."""

    n: int
    # organisations; index 0 is our company
    org_kind: IntArray
    org_name: ObjArray
    org_domain: ObjArray
    org_city: IntArray
    # members, grouped by organisation
    m_org: IntArray
    m_pos: IntArray
    m_first: IntArray
    m_last: IntArray
    m_dup: IntArray
    m_handle_dup: IntArray
    m_title: IntArray
    m_city: IntArray
    m_consent: npt.NDArray[np.bool_]
    m_listed: npt.NDArray[np.bool_]
    m_started: IntArray
    titles: ObjArray
    org_start: IntArray
    org_size: IntArray


def _org_sizes(rng: np.random.Generator, people: int, orgs: int) -> IntArray:
    """Sizes summing to `people`, each at least 1, with a heavy tail (a few big accounts)."""
    weights = rng.pareto(1.3, orgs) + 1.0
    sizes = 1 + np.floor(weights / weights.sum() * (people - orgs)).astype(np.int64)
    extra = people - int(sizes.sum())
    if extra:
        np.add.at(sizes, rng.integers(0, orgs, extra), 1)
    result: IntArray = sizes
    return result


def _plan(n: int, seed: int, our_name: str, our_domain: str) -> _Plan:
    rng = np.random.default_rng(seed)
    brands, industries = _words("brands"), _words("industries")
    cities = _words("cities")

    # How many people of each kind, and in how many organisations.
    people = [max(6, int(n * _KINDS[0][2]))]
    people += [int(n * share) for _, _, share, _, _ in _KINDS[1:-1]]
    people.append(n - sum(people))
    n_orgs = [1] + [
        min(people[k], max(fewest, round(people[k] / avg))) for k, (_, _, _, avg, fewest) in enumerate(_KINDS) if k
    ]
    sizes = np.concatenate(
        [np.array([people[0]])] + [_org_sizes(rng, people[k], n_orgs[k]) for k in range(1, len(_KINDS))]
    )
    org_kind = np.repeat(np.arange(len(_KINDS)), n_orgs).astype(np.int64)
    total_orgs = len(sizes)

    # Organisation names: distinct (brand, industry, form) triples such as "Acme Logistics Group".
    n_combos = len(brands) * len(industries) * len(_FORMS)
    pick = rng.choice(n_combos, size=min(n_combos, total_orgs + 200), replace=False)
    b, rest = np.divmod(pick, len(industries) * len(_FORMS))
    i, f = np.divmod(rest, len(_FORMS))
    names: list[str] = []
    domains: list[str] = []
    seen = {our_name.strip().lower()}
    seen_domains = {our_domain}
    for bb, ii, ff in zip(b.tolist(), i.tolist(), f.tolist(), strict=True):
        if brands[bb] == industries[ii]:
            continue
        name = f"{brands[bb]} {industries[ii]}{_FORMS[ff]}"
        dom = _compact(name) + ".example"
        if name.lower() in seen or dom in seen_domains:
            continue
        seen.add(name.lower())
        seen_domains.add(dom)
        names.append(name)
        domains.append(dom)
        if len(names) == total_orgs - 1:
            break
    if len(names) < total_orgs - 1:
        raise invalid("Too many organisations for the demo's name lists", members="too many")
    org_name = np.array([our_name, *names], dtype=object)
    org_domain = np.array([our_domain, *domains], dtype=object)
    org_city = rng.integers(0, len(cities), total_orgs)

    # Members: each organisation's people are consecutive; position 0 heads it.
    org_start = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    m_org = np.repeat(np.arange(total_orgs), sizes).astype(np.int64)
    m_pos = np.arange(n, dtype=np.int64) - org_start[m_org]
    n_first, n_last = len(_words("first_names")), len(_words("last_names"))
    m_first = rng.integers(0, n_first, n)
    # Surnames follow a skew too: some are much more common than others.
    last_p = 1.0 / np.arange(1, n_last + 1) ** 0.6
    m_last = rng.choice(n_last, size=n, p=last_p / last_p.sum())
    # Two people with the same name at one organisation get "jane.doe2@".
    m_dup = _group_rank((m_org * n_first + m_first) * n_last + m_last)

    # Titles, by kind of organisation and level.
    level = np.minimum(np.where(m_pos == 0, 0, np.where(m_pos <= _FANOUT, 1, 2)), 2)
    title_list: list[str] = []
    offset = np.zeros((len(_KINDS), 3), dtype=np.int64)
    count = np.zeros((len(_KINDS), 3), dtype=np.int64)
    for k in range(len(_KINDS)):
        for lvl in range(3):
            offset[k, lvl] = len(title_list)
            count[k, lvl] = len(_TITLES[k][lvl])
            title_list.extend(_TITLES[k][lvl])
    mk = org_kind[m_org]
    m_title = offset[mk, level] + (rng.random(n) * count[mk, level]).astype(np.int64)

    # Most people work where their organisation is based.
    m_city = np.where(rng.random(n) < 0.75, org_city[m_org], rng.integers(0, len(cities), n))
    m_consent = rng.random(n) >= 0.07
    m_listed = (mk == _K_OURS) | (rng.random(n) < 0.35)
    # Heads have been there longest: start dates up to 12 years back, newer further down.
    today = int(np.datetime64("today", "D").astype(np.int64))
    m_started = today - 30 - (rng.random(n) * 4000 / (1 + 0.3 * level)).astype(np.int64)
    return _Plan(
        n=n,
        org_kind=org_kind,
        org_name=org_name,
        org_domain=org_domain,
        org_city=org_city,
        m_org=m_org,
        m_pos=m_pos,
        m_first=m_first,
        m_last=m_last,
        m_dup=m_dup,
        m_handle_dup=_group_rank(m_first * n_last + m_last),
        m_title=m_title,
        m_city=m_city,
        m_consent=m_consent,
        m_listed=m_listed,
        m_started=m_started,
        titles=np.array(title_list, dtype=object),
        org_start=org_start,
        org_size=sizes.astype(np.int64),
    )


# --- building -------------------------------------------------------------------------------


def demo_exists() -> bool:
    """True when the demo has been built into this database."""
    return Activity.objects.filter(source=DEMO_SOURCE).exists()


def _reset_models() -> list[type[models.Model]]:
    """Convenor's models and anything pointing at them, children before parents."""
    wanted: set[type[models.Model]] = set()
    for model in apps.get_models(include_auto_created=True):
        if model.__module__.startswith("convenor.") or model._meta.app_label in {"core", "people"}:
            wanted.add(model)

    def parents(model: type[models.Model]) -> set[type[models.Model]]:
        out: set[type[models.Model]] = set()
        for f in model._meta.concrete_fields:
            related = f.related_model
            if f.is_relation and isinstance(related, type) and related is not model:
                out.add(related)
        return out

    all_models = apps.get_models(include_auto_created=True)
    grew = True
    while grew:
        grew = False
        for model in all_models:
            if model not in wanted and parents(model) & wanted:
                wanted.add(model)
                grew = True
    ordered: list[type[models.Model]] = []
    remaining = set(wanted)
    while remaining:
        # A model can go once no remaining model points at it.
        ready = [m for m in remaining if not any(m in parents(o) for o in remaining if o is not m)]
        if not ready:  # a cycle: let deferred constraints sort it out at commit
            ready = list(remaining)
        for m in sorted(ready, key=lambda m: m._meta.db_table):
            ordered.append(m)
            remaining.discard(m)
    return [m for m in ordered if not m._meta.proxy and m._meta.managed]


def demo_reset() -> None:
    """Delete every person, organisation, account and activity (and what points at them)."""
    # Only tables that exist: a model whose migration has not run yet has nothing to delete.
    present = set(connection.introspection.table_names())
    tables = [_table(m) for m in _reset_models() if _table(m) in present]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(_qn(t) for t in tables)} RESTART IDENTITY CASCADE")
        else:
            for t in tables:
                cursor.execute(f"DELETE FROM {_qn(t)}")  # noqa: S608  # a model's own table name


def build_demo(
    *, members: int, seed: int = 1, reset: bool = False, progress: Progress | None = None, steps: bool = True
) -> DemoResult:
    """Build the demo community of `members` people; see the module docstring.

    Then run the later apps' DEMO_STEPS (their seconds go to ``result.step_seconds``),
    unless `steps` is off: bench/demo_scale.py times the community build alone, then runs
    them with `run_demo_steps`.

    Does nothing (``built=False``) when the demo is already there and `reset` is off.
    Raises ApplicationError(VALIDATION) for a size out of range and CONFLICT when the
    database already holds other people or organisations (use `reset` to replace them).
    """
    if not MIN_MEMBERS <= members <= MAX_MEMBERS:
        raise invalid(
            f"The demo has {MIN_MEMBERS:,} to {MAX_MEMBERS:,} members, not {members:,}",
            members=f"between {MIN_MEMBERS} and {MAX_MEMBERS}",
        )
    started = time.monotonic()
    if reset:
        demo_reset()
    elif demo_exists():
        return DemoResult(built=False)
    elif (
        Organization.objects.exclude(kind=OrgKind.OURS).exists()
        or Member.objects.exclude(affiliations__organization__kind=OrgKind.OURS).exists()
    ):
        raise ApplicationError(
            ErrorCode.CONFLICT,
            "This database already has people or organisations; use --reset to replace them with the demo",
        )
    # Hashing is slow on purpose (about a second): done once, in a thread (the hash
    # function lets go of the GIL) while the community is generated, and reused for every
    # demo account.
    with ThreadPoolExecutor(max_workers=2) as pool:
        password = pool.submit(make_password, DEMO_PASSWORD)
        # The post HTML links @mentions to profiles: the URL needs the URL configuration,
        # whose first import (the API's schemas, every app's views) takes a second or more.
        # Loaded in the other thread while the people are generated and written.
        member_url = pool.submit(_member_url)
        # Index rebuilds sort every row: in memory rather than through temporary files.
        # SQLite takes this only outside a transaction (tests build inside one; they are small).
        sort_in_memory = connection.vendor == "sqlite" and not connection.in_atomic_block
        if sort_in_memory:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA temp_store = MEMORY")
        try:
            result = _build(members, seed, password, member_url, progress or (lambda done, total: None))
        finally:
            if sort_in_memory:
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA temp_store = DEFAULT")
    if steps:
        run_demo_steps(result, seed=seed, progress=progress)
    result.seconds = time.monotonic() - started
    return result


def run_demo_steps(result: DemoResult, *, seed: int = 1, progress: Progress | None = None) -> None:
    """Run DEMO_STEPS on top of a built community: their counts go to ``result.extras``
    and their seconds to ``result.step_seconds``, by app."""
    for app, module_name in DEMO_STEPS:
        # Each step adds its app's demo data on top of the community built above, through
        # the app's own services or bulk writes: `build(seed, progress) -> counts by kind`.
        t0 = time.perf_counter()
        step = importlib.import_module(module_name)
        result.extras[app] = step.build(seed=seed, progress=progress or (lambda done, total: None))
        result.step_seconds[app] = time.perf_counter() - t0


# The later apps' demo steps, in order: what a step reads must be built by an earlier one
# (the map is built from the ideas and outside conversations; hot groups read the map).
DEMO_STEPS: list[tuple[str, str]] = [
    ("feedback", "convenor.feedback.demo"),
    ("charter", "convenor.charter.demo"),
    ("listening", "convenor.listening.demo"),
    # Some imported outside posts linked to the ideas: reads both steps above.
    ("feedback_outside", "convenor.feedback.demo_outside"),
    ("graph", "convenor.graph.demo"),
    ("hotgroups", "convenor.hotgroups.demo"),
]


def _our_domain(ours: Organization) -> str:
    have = list(ours.domains.order_by("domain").values_list("domain", flat=True))
    if have:
        return have[0]
    word = _compact(settings.COMPANY_NAME.split()[0] if settings.COMPANY_NAME.split() else "ours")
    domain = f"{word or 'ours'}.example"
    if not Domain.objects.filter(domain=domain).exists():
        Domain.objects.create(organization=ours, domain=domain)
    return domain


def _member_url() -> str:
    from convenor.spaces.demo import member_url_pattern

    return member_url_pattern()


def _build(n: int, seed: int, password: Future[str], member_url: Future[str], progress: Progress) -> DemoResult:
    STEP_SECONDS.clear()
    first_names = np.array(_words("first_names"), dtype=object)
    last_names = np.array(_words("last_names"), dtype=object)
    cities = np.array(_words("cities"), dtype=object)
    # "first.last" by (first name index * n_last + last name index), for the email addresses.
    locals_ = _Locals()
    n_last = len(last_names)
    now = datetime.now(UTC).replace(microsecond=0)
    now_text = _timestamps(np.array([int(now.timestamp())], dtype=np.int64))[0]
    rng = np.random.default_rng([seed, 2])
    t00 = time.perf_counter()

    with transaction.atomic():
        ours = our_company()
        our_domain = _our_domain(ours)
        plan = _plan(n, seed, ours.name, our_domain)
        interest_names = _words("interests")
        interests = {i.name: i.pk for i in interests_resolve(interest_names)}
        interest_ids = np.array([interests[name] for name in interest_names], dtype=np.int64)

        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # A big page cache keeps the indexes in memory while they are built.
                cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
            org_base = _max_id(cursor, _table(Organization)) + 1
            member_base = _max_id(cursor, _table(Member)) + 1
            existing_emails = {e for e in Member.objects.values_list("email", flat=True) if e}
            existing_users = set(User.objects.values_list("email", flat=True))
            # @handles are unique across the community: jane.doe, jane.doe2, ...
            has_handle = any(f.column == "handle" for f in Member._meta.concrete_fields)
            if has_handle and Member.objects.exclude(handle=None).exists():
                has_handle = False  # someone chose theirs already; leave the demo's people without

            n_orgs = len(plan.org_kind)
            org_id = np.r_[ours.pk, org_base + np.arange(n_orgs - 1)].astype(np.int64)
            # Members are written, and numbered, in the order of their email addresses, so
            # the unique indexes on email and handle (which stay, and are checked row by
            # row) grow at their end instead of at random places. The word lists are sorted,
            # so that order is simply the order of (first name, last name) indexes.
            order = np.argsort(plan.m_first * n_last + plan.m_last, kind="stable")
            member_id = np.empty(n, dtype=np.int64)
            member_id[order] = member_base + np.arange(n, dtype=np.int64)
            place = np.empty(n, dtype=np.int64)
            place[order] = np.arange(n, dtype=np.int64)

            # Per-member overrides for the demo logins: email, title, listed, user id.
            user_base = _max_id(cursor, _table(User)) + 1
            logins, overrides, users = _logins(plan, locals_, n_last, existing_emails, existing_users, user_base, now)
            rels = _relationships(plan, rng, org_id, member_id)
            acts = _activities(plan, rng, member_id)
            past = _past_affiliations(plan, rng)
            picks = _interest_picks(plan, rng, interest_ids)
            ident = _identities(plan, rng)
            total = (
                n_orgs
                - 1
                + n_orgs
                - 1
                + n
                + n
                + len(past[0])
                + sum(len(r[1]) for r in rels)
                + len(acts[0])
                + len(picks[0])
                + sum(len(x[1]) for x in ident)
            )
            STEP_SECONDS["plan"] = time.perf_counter() - t00
            done = 0
            # Writing a million rows into indexed tables costs a random B-tree insert per
            # index per row; building each index once at the end is a sort, several times
            # faster. The unique ones are rebuilt inside the same transaction, so a
            # duplicate still fails the whole build and nothing is left half-written.
            filled: list[type[models.Model]] = [Organization, Domain, Member, Affiliation, Identity]
            filled += [Member.interests.through, Relationship, Activity]
            filled += _conversation_models()
            rebuild = _drop_indexes(cursor, [_table(m) for m in filled])

            def tick(rows: int) -> None:
                nonlocal done
                done += rows
                # The conversations and events plan their rows as they go: past the people
                # part's known total, report rows written without a percentage (total 0).
                progress(done, total if done <= total else 0)

            # Organisations and their domains.
            new = slice(1, n_orgs)
            kind_names = np.array([str(k[0]) for k in _KINDS], dtype=object)
            tick(
                _insert(
                    cursor,
                    _table(Organization),
                    {
                        "id": org_id[new].tolist(),
                        "name": plan.org_name[new].tolist(),
                        "name_key": [name.lower() for name in plan.org_name[new].tolist()],
                        "kind": kind_names[plan.org_kind[new]].tolist(),
                        "website": ("https://www." + plan.org_domain[new]).tolist(),
                        "description": Fixed(""),
                        "created_at": Fixed(now_text),
                        "updated_at": Fixed(now_text),
                    },
                )
            )
            tick(
                _insert(
                    cursor,
                    _table(Domain),
                    {"organization_id": org_id[new].tolist(), "domain": plan.org_domain[new].tolist()},
                )
            )

            # Accounts before the members who point at them: SQLite checks a deferred foreign
            # key at commit, but while one is outstanding, every parent row written makes it
            # search the child tables, whose indexes are gone until the end.
            # They get the password hash at the end of the build, so the (slow on purpose)
            # hash has the whole build to finish in its thread; until then, in this
            # transaction, the password is unusable.
            for user in users:
                user.set_unusable_password()
            User.objects.bulk_create(users)

            # Members, then their current places.
            at_domain = "@" + plan.org_domain
            role_names = np.array([str(k[1]) for k in _KINDS], dtype=object)
            for lo, hi in _ranges(n):
                ix = order[lo:hi]
                o = plan.m_org[ix]
                name_idx = plan.m_first[ix] * n_last + plan.m_last[ix]
                names = (first_names[plan.m_first[ix]] + " " + last_names[plan.m_last[ix]]).tolist()
                emails = locals_[name_idx] + _numbered(plan.m_dup[ix]) + at_domain[o]
                if existing_emails:
                    clash = np.flatnonzero(np.isin(emails, np.array(sorted(existing_emails), dtype=object)))
                    emails[clash] = [str(emails[j]).replace("@", f".{ix[j]}@") for j in clash.tolist()]
                titles = plan.titles[plan.m_title[ix]]
                listed = plan.m_listed[ix].copy()
                user_ids: ObjArray = np.full(hi - lo, None, dtype=object)
                for idx, (email, title, user_id) in overrides.items():
                    if lo <= (j := int(place[idx])) < hi:
                        emails[j - lo], titles[j - lo], user_ids[j - lo] = email, title, user_id
                        listed[j - lo] = True
                columns: dict[str, list[Any] | Fixed] = {
                    "id": member_id[ix].tolist(),
                    "name": names,
                    "email": emails.tolist(),
                    "role": role_names[plan.org_kind[o]].tolist(),
                    "title": titles.tolist(),
                    "bio": Fixed(""),
                    "location": cities[plan.m_city[ix]].tolist(),
                    "consent_to_contact": plan.m_consent[ix].tolist(),
                    "listed": listed.tolist(),
                    "user_id": user_ids.tolist(),
                    "created_at": Fixed(now_text),
                    "updated_at": Fixed(now_text),
                }
                if has_handle:
                    columns["handle"] = (locals_[name_idx] + _numbered(plan.m_handle_dup[ix])).tolist()
                tick(_insert(cursor, _table(Member), columns))
                tick(
                    _insert(
                        cursor,
                        _table(Affiliation),
                        {
                            "member_id": member_id[ix].tolist(),
                            "organization_id": org_id[o].tolist(),
                            "title": titles.tolist(),
                            "started_on": _dates(plan.m_started[ix]),
                            "ended_on": Fixed(None),
                        },
                    )
                )

            # Earlier places: people who moved from one organisation to another.
            p_member, p_org, p_start, p_end = past
            for lo, hi in _ranges(len(p_member)):
                tick(
                    _insert(
                        cursor,
                        _table(Affiliation),
                        {
                            "member_id": member_id[p_member[lo:hi]].tolist(),
                            "organization_id": org_id[p_org[lo:hi]].tolist(),
                            "title": plan.titles[plan.m_title[p_member[lo:hi]]].tolist(),
                            "started_on": _dates(p_start[lo:hi]),
                            "ended_on": _dates(p_end[lo:hi]),
                        },
                    )
                )

            # Interests.
            through: str = Member.interests.through._meta.db_table
            pm, pi = picks
            for lo, hi in _ranges(len(pm)):
                tick(
                    _insert(
                        cursor,
                        through,
                        {"member_id": member_id[pm[lo:hi]].tolist(), "interest_id": pi[lo:hi].tolist()},
                    )
                )

            # Identities in the community's chat and forum.
            for source, who, external, handle in ident:
                for lo, hi in _ranges(len(who)):
                    w = who[lo:hi]
                    tick(
                        _insert(
                            cursor,
                            _table(Identity),
                            {
                                "member_id": member_id[w].tolist(),
                                "source": Fixed(source),
                                "external_id": external[lo:hi].tolist(),
                                "handle": handle[lo:hi].tolist(),
                                "email": Fixed(""),
                                "display_name": (
                                    first_names[plan.m_first[w]] + " " + last_names[plan.m_last[w]]
                                ).tolist(),
                                "created_at": Fixed(now_text),
                            },
                        )
                    )

            # Declared relationships: one statement shape per kind and pair of ends.
            for kind, src, tgt, src_is_org, tgt_is_org, strength in rels:
                for lo, hi in _ranges(len(src)):
                    s_ids, t_ids = src[lo:hi].tolist(), tgt[lo:hi].tolist()
                    tick(
                        _insert(
                            cursor,
                            _table(Relationship),
                            {
                                "kind": Fixed(kind),
                                "source_member_id": Fixed(None) if src_is_org else s_ids,
                                "source_org_id": s_ids if src_is_org else Fixed(None),
                                "target_member_id": Fixed(None) if tgt_is_org else t_ids,
                                "target_org_id": t_ids if tgt_is_org else Fixed(None),
                                "directed": Fixed(kind not in SYMMETRIC_KINDS),
                                "strength": strength[lo:hi].tolist(),
                                "evidence": Fixed("demo"),
                                "started_on": Fixed(None),
                                "ended_on": Fixed(None),
                                "created_at": Fixed(now_text),
                            },
                        )
                    )

            # The activity log, one statement shape per verb.
            a_actor, a_verb, a_target, a_when, a_origin = acts
            for lo, hi in _ranges(len(a_actor)):
                origins = np.strings.add("demo-", np.strings.zfill(a_origin[lo:hi].astype(str), 9))
                verb = a_verb[lo:hi]
                for v, name in enumerate(_VERBS):
                    pick = np.flatnonzero(verb == v)
                    if not len(pick):
                        continue
                    tick(
                        _insert(
                            cursor,
                            _table(Activity),
                            {
                                "actor_id": a_actor[lo:hi][pick].tolist(),
                                "verb": Fixed(name),
                                "target_member_id": a_target[lo:hi][pick].tolist(),
                                "target_org_id": Fixed(None),
                                "object_kind": Fixed(""),
                                "object_id": Fixed(None),
                                "place_kind": Fixed(""),
                                "place_id": Fixed(None),
                                "source": Fixed(DEMO_SOURCE),
                                "origin_id": origins[pick].tolist(),
                                "occurred_at": _timestamps(a_when[lo:hi][pick]),
                                "recorded_at": Fixed(now_text),
                                "data": Fixed("{}"),
                            },
                        )
                    )

            # The conversations in spaces (convenor/spaces/demo.py), on top of the people.
            t0 = time.perf_counter()
            conversations, people = _conversations(
                cursor,
                plan,
                seed,
                member_id,
                org_id,
                picks,
                interest_ids,
                interest_names,
                rels,
                now,
                now_text,
                tick,
                has_handle=has_handle,
                member_url=member_url.result(),
            )
            STEP_SECONDS["conversations"] = time.perf_counter() - t0

            # The events (convenor/events/demo.py): hosts, speakers and audiences among them.
            t0 = time.perf_counter()
            events = _events(cursor, people, seed, now_text, tick)
            STEP_SECONDS["events"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            hashed = password.result()
            STEP_SECONDS["password_hash_wait"] = time.perf_counter() - t0
            if users:
                User.objects.filter(pk__in=[u.pk for u in users]).update(password=hashed)

            t0 = time.perf_counter()
            if connection.vendor == "postgresql":
                # PostgreSQL will not build an index on a table with foreign-key checks still
                # queued; run them now (they are checked all the same, just before commit).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql in rebuild:
                cursor.execute(sql)
            STEP_SECONDS["indexes"] = time.perf_counter() - t0
            if connection.vendor == "postgresql":
                sequenced: list[type[models.Model]] = [
                    Organization,
                    Member,
                    User,
                    *_conversation_models(),
                    *_event_models(),
                ]
                for model in sequenced:
                    table = _table(model)
                    sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {_qn(table)}))"  # noqa: S608  # a model's own table name
                    cursor.execute(sql, [table])
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA cache_size = -2000")  # back to the default
        t_commit = time.perf_counter()
    STEP_SECONDS["commit"] = time.perf_counter() - t_commit

    org_kinds = np.bincount(plan.org_kind, minlength=len(_KINDS))
    role_counts = np.bincount(plan.org_kind[plan.m_org], minlength=len(_KINDS))
    rel_counts: dict[str, int] = {}
    for kind, src, *_ in rels:
        rel_counts[str(kind)] = rel_counts.get(str(kind), 0) + len(src)
    return DemoResult(
        built=True,
        members=n,
        rows=total
        + len(logins)
        + sum(v for k, v in conversations.items() if k not in ("accepted", "pitches"))
        + sum(v for k, v in events.items() if k not in ("past", "mismatched")),
        members_by_role={str(k[1]): int(c) for k, c in zip(_KINDS, role_counts, strict=True)},
        orgs_by_kind={str(k[0]): int(c) for k, c in zip(_KINDS, org_kinds, strict=True)},
        relationships_by_kind=rel_counts,
        affiliations=n + len(past[0]),
        identities=sum(len(x[1]) for x in ident),
        interests=len(interest_ids),
        member_interests=len(picks[0]),
        activities=len(acts[0]),
        logins=logins,
        conversations=conversations,
        events=events,
    )


def _conversation_models() -> list[type[models.Model]]:
    from convenor.spaces.models import Follow, Mention, Post, Reaction, Space, SpaceMembership, Thread

    return [Space, SpaceMembership, Thread, Post, Reaction, Mention, Follow]


def _conversations(
    cursor: Any,
    plan: _Plan,
    seed: int,
    member_id: IntArray,
    org_id: IntArray,
    picks: tuple[IntArray, IntArray],
    interest_ids: IntArray,
    interest_names: list[str],
    rels: list[_Rel],
    now: datetime,
    now_text: str,
    tick: Callable[[int], None],
    *,
    has_handle: bool,
    member_url: str,
) -> tuple[dict[str, int], Any]:
    """Spaces, threads, posts and what goes with them, written by convenor/spaces/demo.py;
    returns the counts and the people as that module sees them (the events reuse them)."""
    from convenor.spaces.demo import People, build_conversations

    # Mentions need @handles; the demo's people have none when someone chose theirs already.
    handles: ObjArray | None = None
    if has_handle:
        handles = _Locals().of(plan.m_first, plan.m_last) + _numbered(plan.m_handle_dup)
    # Interest picks by the interest's index in `interest_names`, not its id.
    sorter = np.argsort(interest_ids)
    pick_interest = sorter[np.searchsorted(interest_ids, picks[1], sorter=sorter)].astype(np.int64)
    people = People(
        n=plan.n,
        member_id=member_id,
        member_org=plan.m_org,
        member_kind=plan.org_kind[plan.m_org],
        org_id=org_id,
        org_kind=plan.org_kind,
        org_name=plan.org_name,
        org_start=plan.org_start,
        org_size=plan.org_size,
        pick_member=picks[0],
        pick_interest=pick_interest,
        interest_names=interest_names,
        rels=rels,
        handles=handles,
        staff=[1, 2, 3, 4],
        member_url=member_url,
        now=int(now.timestamp()),
        kinds={
            "ours": _K_OURS,
            "customer": _K_CUSTOMER,
            "supplier": _K_SUPPLIER,
            "partner": _K_PARTNER,
            "competitor": _K_COMPETITOR,
        },
    )
    return build_conversations(cursor, people, seed, now_text, tick), people


def _event_models() -> list[type[models.Model]]:
    from convenor.events.demo import event_models

    return event_models()


def _events(cursor: Any, people: Any, seed: int, now_text: str, tick: Callable[[int], None]) -> dict[str, int]:
    """Community and commercial events with their audiences, written by convenor/events/demo.py."""
    from convenor.events.demo import build_events

    return build_events(cursor, people, seed, now_text, tick)


# --- parts of the plan ----------------------------------------------------------------------


def _logins(
    plan: _Plan,
    locals_: _Locals,
    n_last: int,
    existing_emails: set[str],
    existing_users: set[str],
    user_base: int,
    now: datetime,
) -> tuple[list[DemoLogin], dict[int, tuple[str, str, int | None]], list[User]]:
    """The demo accounts: the logins to print, per-member overrides (email, title, user id)
    and the unsaved users, with their ids chosen and the password left to fill in."""

    def email_of(i: int) -> str:
        local = str(locals_[plan.m_first[i] * n_last + plan.m_last[i]])
        dup = int(plan.m_dup[i])
        return f"{local}{dup + 1 if dup else ''}@{plan.org_domain[plan.m_org[i]]}"

    # Employees 1-4 (0 is the chief executive) take the staff roles.
    our = plan.org_domain[0]
    staff = [
        (1, f"admin@{our}", "Platform Administrator", StaffRole.ADMIN, "admin"),
        (2, None, "Community Manager", StaffRole.COMMUNITY_MANAGER, "community manager"),
        (3, None, "Account Executive", StaffRole.SALES, "sales"),
        (4, None, "Product Manager", StaffRole.PRODUCT, "product"),
    ]
    # Two customers at competing customer organisations: the two largest customers are
    # always linked by competes_with (see _relationships).
    customers = _two_biggest_customers(plan)
    people: list[tuple[int, str | None, str, str, str]] = list(staff)
    for org in customers:
        pos = min(1, int(plan.org_size[org]) - 1)
        people.append((int(plan.org_start[org]) + pos, None, "", StaffRole.NONE, f"customer at {plan.org_name[org]}"))

    logins: list[DemoLogin] = []
    overrides: dict[int, tuple[str, str, int | None]] = {}
    users: list[User] = []
    for idx, email, title, role, who in people:
        address = email or email_of(idx)
        title = title or str(plan.titles[plan.m_title[idx]])
        if address in existing_users or address in existing_emails:
            logins.append(DemoLogin(address, who, created=False))
            continue
        name = f"{_words('first_names')[plan.m_first[idx]]} {_words('last_names')[plan.m_last[idx]]}"
        user = User(
            id=user_base + len(users),
            email=address,
            name=name,
            staff_role=role,
            is_superuser=role == StaffRole.ADMIN,
            date_joined=now,
        )
        users.append(user)
        overrides[idx] = (address, title, user.pk)
        logins.append(DemoLogin(address, f"{who}: {name}, {title}"))
    return logins, overrides, users


def _two_biggest_customers(plan: _Plan) -> list[int]:
    customers = np.flatnonzero(plan.org_kind == _K_CUSTOMER)
    order = customers[np.argsort(-plan.org_size[customers], kind="stable")]
    return [int(order[0]), int(order[1])]


_Rel = tuple[str, IntArray, IntArray, bool, bool, npt.NDArray[np.float64]]


def _ordered(kind: str, a: IntArray, b: IntArray, *, same_ends: bool) -> tuple[IntArray, IntArray]:
    """Symmetric kinds are stored smaller id first (as the services do); drop self-lines and repeats.

    `same_ends` says both ends are of one table (two members, two organisations): only then
    is an equal id a self-line. A member and an organisation may share an id by chance, and
    which ones do depends on where the database's sequences stand."""
    if kind in SYMMETRIC_KINDS:
        a, b = np.minimum(a, b), np.maximum(a, b)
    if same_ends:
        keep = a != b
        a, b = a[keep], b[keep]
    if not len(a):
        return a, b
    # One int64 key per pair: a 1-D unique is far cheaper than np.unique(axis=0).
    width = int(max(a.max(), b.max())) + 1
    key = sorted_unique(a * width + b)
    first, second = np.divmod(key, width)
    return first.astype(np.int64), second.astype(np.int64)


def _relationships(plan: _Plan, rng: np.random.Generator, org_id: IntArray, member_id: IntArray) -> list[_Rel]:
    """Every declared line, as (kind, source ids, target ids, source is org, target is org, strength)."""
    parts: dict[tuple[str, bool, bool], list[tuple[IntArray, IntArray]]] = {}
    kinds = plan.org_kind

    def add(kind: str, a: IntArray, b: IntArray, a_org: bool, b_org: bool) -> None:
        parts.setdefault((kind, a_org, b_org), []).append((a.astype(np.int64), b.astype(np.int64)))

    ours = org_id[0]

    def of(k: int) -> IntArray:
        picked: IntArray = org_id[kinds == k]
        return picked

    customers = of(_K_CUSTOMER)
    add(RelationshipKind.CUSTOMER_OF, customers, np.full(len(customers), ours), True, True)
    add(RelationshipKind.SUPPLIES, np.full(len(customers), ours), customers, True, True)
    suppliers = of(_K_SUPPLIER)
    add(RelationshipKind.SUPPLIES, suppliers, np.full(len(suppliers), ours), True, True)
    partners = of(_K_PARTNER)
    add(RelationshipKind.PARTNER_OF, partners, np.full(len(partners), ours), True, True)
    competitors = of(_K_COMPETITOR)
    # Competitors compete with us and with one another (all pairs while there are few).
    comp_a = [competitors, np.full(len(competitors), ours)]
    if len(competitors) <= 40:
        ii, jj = np.triu_indices(len(competitors), 1)
        comp_b = [competitors[ii], competitors[jj]]
    else:
        comp_b = [competitors, competitors[rng.integers(0, len(competitors), len(competitors))]]
    # Customers in the same industry compete; the two biggest always do.
    c_idx = np.flatnonzero(kinds == _K_CUSTOMER)
    industry = np.array([name.split()[1] for name in plan.org_name[c_idx].tolist()], dtype=object)
    order = np.argsort(industry, kind="stable")
    same = industry[order][1:] == industry[order][:-1]
    big = _two_biggest_customers(plan)
    add(
        RelationshipKind.COMPETES_WITH,
        np.concatenate([comp_a[0], comp_b[0], org_id[c_idx[order][:-1][same]], org_id[big[:1]]]),
        np.concatenate([comp_a[1], comp_b[1], org_id[c_idx[order][1:][same]], org_id[big[1:]]]),
        True,
        True,
    )
    # Customers' customers buy from one to three of our customers.
    cc = of(_K_CC)
    reps = rng.integers(1, 4, len(cc))
    add(
        RelationshipKind.CUSTOMER_OF,
        np.repeat(cc, reps),
        customers[rng.integers(0, len(customers), int(reps.sum()))],
        True,
        True,
    )

    # Inside each organisation: everyone but the head reports to a manager; people with
    # the same manager are colleagues (half the pairs are declared).
    has_boss = plan.m_pos > 0
    boss = plan.org_start[plan.m_org] + (plan.m_pos - 1) // _FANOUT
    add(RelationshipKind.REPORTS_TO, member_id[has_boss], member_id[boss[has_boss]], False, False)
    nxt = np.arange(1, plan.n)
    sib = (
        (plan.m_org[nxt] == plan.m_org[nxt - 1])
        & (plan.m_pos[nxt - 1] > 0)
        & (boss[nxt] == boss[nxt - 1])
        & (rng.random(plan.n - 1) < 0.5)
    )
    add(RelationshipKind.COLLEAGUE, member_id[nxt[sib] - 1], member_id[nxt[sib]], False, False)

    # Across organisations: a third of outside people know someone at our company (their
    # account manager, their support engineer), some know people elsewhere too.
    employees = np.flatnonzero(kinds[plan.m_org] == _K_OURS)
    outside = np.flatnonzero(kinds[plan.m_org] != _K_OURS)
    who = outside[rng.random(len(outside)) < 0.33]
    add(RelationshipKind.KNOWS, member_id[who], member_id[rng.choice(employees, len(who))], False, False)
    who = outside[rng.random(len(outside)) < 0.12]
    other = rng.integers(0, plan.n, len(who))
    keep = plan.m_org[other] != plan.m_org[who]
    add(RelationshipKind.KNOWS, member_id[who[keep]], member_id[other[keep]], False, False)

    # Senior people sometimes advise another organisation.
    senior = np.flatnonzero((plan.m_pos <= _FANOUT) & (rng.random(plan.n) < 0.05))
    target = rng.integers(1, len(kinds), len(senior))
    keep = target != plan.m_org[senior]
    add(RelationshipKind.ADVISES, member_id[senior[keep]], org_id[target[keep]], False, True)

    # Lines of one kind between the same two ends are one row, whichever rule made them.
    out: list[_Rel] = []
    for (kind, a_org, b_org), pieces in parts.items():
        a, b = _ordered(
            kind,
            np.concatenate([p[0] for p in pieces]),
            np.concatenate([p[1] for p in pieces]),
            same_ends=a_org == b_org,
        )
        if len(a):
            strength = np.round(1 + rng.random(len(a)) * 4, 1)
            out.append((kind, a, b, a_org, b_org, strength))
    return out


def _past_affiliations(plan: _Plan, rng: np.random.Generator) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """One in seven people worked somewhere else before; that place has ended."""
    who = np.flatnonzero(rng.random(plan.n) < 0.15)
    org = rng.integers(1, len(plan.org_kind), len(who))
    keep = org != plan.m_org[who]
    who, org = who[keep], org[keep]
    end = plan.m_started[who] - rng.integers(0, 90, len(who))
    start = end - rng.integers(200, 2500, len(who))
    return who, org, start, end


def _interest_picks(plan: _Plan, rng: np.random.Generator, interest_ids: IntArray) -> tuple[IntArray, IntArray]:
    """Each member picks 1-5 distinct interests; popularity follows Zipf's law."""
    n_int = len(interest_ids)
    # Shuffled once so the popular topics are not simply the first lines of the file.
    popularity = rng.permutation(n_int)
    logp = -1.1 * np.log(1.0 + popularity)
    how_many = rng.choice(5, size=plan.n, p=[0.3, 0.3, 0.2, 0.12, 0.08]) + 1
    members: list[IntArray] = []
    chosen: list[IntArray] = []
    for lo, hi in _ranges(plan.n):
        # Weighted sampling without replacement: the top five of log-weights plus Gumbel noise.
        keys = logp + rng.gumbel(size=(hi - lo, n_int))
        top5 = np.argpartition(-keys, 5, axis=1)[:, :5]
        top = np.take_along_axis(top5, np.argsort(-np.take_along_axis(keys, top5, axis=1), axis=1), axis=1)
        mask = np.arange(5) < how_many[lo:hi, None]
        members.append(np.broadcast_to(np.arange(lo, hi)[:, None], (hi - lo, 5))[mask])
        chosen.append(interest_ids[top[mask]])
    return np.concatenate(members).astype(np.int64), np.concatenate(chosen).astype(np.int64)


def _identities(plan: _Plan, rng: np.random.Generator) -> list[tuple[str, IntArray, ObjArray, ObjArray]]:
    """Chat handles for every employee and a third of the rest; forum accounts for a quarter."""
    kinds = plan.org_kind[plan.m_org]
    first = np.array([_compact(w) for w in _words("first_names")], dtype=object)
    last = np.array([_compact(w) for w in _words("last_names")], dtype=object)
    out = []
    slack = np.flatnonzero((kinds == _K_OURS) | (rng.random(plan.n) < 0.33))
    out.append(
        (
            "slack",
            slack,
            np.strings.add("U", np.strings.zfill(slack.astype(str), 9)).astype(object),
            first[plan.m_first[slack]] + "." + last[plan.m_last[slack]],
        )
    )
    forum = np.flatnonzero(rng.random(plan.n) < 0.25)
    out.append(
        (
            "discourse",
            forum,
            (forum + 1000).astype(str).astype(object),
            first[plan.m_first[forum]] + last[plan.m_last[forum]] + (forum % 100).astype(str).astype(object),
        )
    )
    return out


def _activities(
    plan: _Plan, rng: np.random.Generator, member_id: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """A few interactions per member over the last eighteen months; a few people do most.

    Returns actor ids, verb indexes (into _VERBS), target ids, epoch seconds and a serial
    number for the origin id, sorted by actor.
    """
    n = plan.n
    total = 3 * n
    weight = rng.lognormal(0.0, 1.0, n)
    actor = np.sort(rng.choice(n, size=total, p=weight / weight.sum()))
    verb = rng.choice(4, size=total, p=[0.55, 0.2, 0.2, 0.05])
    # Half the time someone at the same organisation, else someone at our company, else anyone.
    employees = np.flatnonzero(plan.org_kind[plan.m_org] == _K_OURS)
    start, size = plan.org_start[plan.m_org[actor]], plan.org_size[plan.m_org[actor]]
    same_org = start + (rng.random(total) * size).astype(np.int64)
    u = rng.random(total)
    target = np.where(u < 0.5, same_org, np.where(u < 0.85, rng.choice(employees, total), rng.integers(0, n, total)))
    # Nobody messages themselves: point those at the next person instead.
    target = np.where(target == actor, (target + 1) % n, target)
    now = int(datetime.now(UTC).timestamp())
    day = rng.integers(1, _ACTIVITY_DAYS, total)
    seconds = rng.integers(8 * 3600, 18 * 3600, total)
    when = (now // 86400 - day) * 86400 + seconds
    return member_id[actor], verb, member_id[target], when.astype(np.int64), np.arange(total, dtype=np.int64)
