"""Proposing hot groups: cross-sections of the community that share an interest.

For one topic, the pool is the people who hold it well above their community's average
(profiles.HOLD_RATIO, profiles.HOLD_SHARE), can be contacted, are members rather than only
observed, and were not proposed for the same topic within the cool-down. Each stage that
empties the pool, or leaves it without what every group needs, stops with a message naming
the constraint: a weaker group is never proposed in silence.

A group is then built greedily on the best part of the pool: it starts from a connector
(top decile of brokerage or PageRank on the map) and adds, one at a time, the person who
adds most interest, new ties (pairs not yet joined on the map), connectors and roles,
skipping anyone who would break a rule (competing organisations, the 40% seat cap) or leave
too few seats for what is still required (an employee, two customers, three roles).
Every proposal is checked against every rule by ``violations()`` before it is returned.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.hotgroups.models import GroupMember, MemberInterest, SuggestionMember, Topic
from convenor.hotgroups.profiles import HOLD_RATIO, HOLD_SHARE

MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 5, 30, 10
MAX_LIMIT = 50
MIN_ROLES = 3
MIN_EMPLOYEES = 1
MIN_CUSTOMERS = 2
MAX_ORG_SHARE = 0.4
CONNECTOR_QUANTILE = 0.9
# The greedy search looks at the best few hundred of the pool (by interest), plus the
# best employees, customers and connectors: enough for any group of up to 30.
POOL_TOP = 100
POOL_PER_NEED = 25
ATTEMPTS = 3
MAP_MISSING = "The map has never been built: build the map first: convenor map build"


def cooldown_days() -> int:
    return int(getattr(settings, "HOTGROUPS_COOLDOWN_DAYS", 90))


@dataclass
class Candidate:
    """A person who may be proposed, with what the rules and the score need."""

    member_id: int
    name: str
    email: str
    role: str
    org_id: int | None
    org_name: str
    org_kind: str
    meets_competitors: bool
    share: float
    ratio: float
    pagerank: float = 0.0
    brokerage: float = 0.0
    community: int | None = None
    connector: bool = False

    @property
    def employee(self) -> bool:
        return self.role == "employee"

    @property
    def customer(self) -> bool:
        return self.role == "customer"


@dataclass
class Proposal:
    """A group ready to be stored as a suggestion."""

    topic: Topic
    members: list[Candidate]
    score: float
    explanation: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rules:
    """What the rules need to know about the community around a pool."""

    competing: set[frozenset[int]]
    connected: set[tuple[int, int]]

    def conflict(self, a: Candidate, b: Candidate) -> bool:
        """People from competing organisations, unless both opted in to meeting competitors."""
        if a.org_id is None or b.org_id is None or a.org_id == b.org_id:
            return False
        if frozenset((a.org_id, b.org_id)) not in self.competing:
            return False
        return not (a.meets_competitors and b.meets_competitors)

    def joined(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.connected


# --- the map --------------------------------------------------------------------------------


def require_map() -> None:
    """Raise CONFLICT when the map was never built (suggestions need its connectors and ties)."""
    from convenor.graph import selectors as graph

    try:
        built = graph.map_built_at()
    except NotImplementedError:
        built = None
    if built is None:
        raise ApplicationError(ErrorCode.CONFLICT, MAP_MISSING)


def _cut(values: npt.NDArray[np.float64]) -> float:
    """The smallest value that counts as top decile: above the 90th percentile, or at it
    when that stands out from the median (on a map where most values tie, ties are no mark)."""
    q = float(np.quantile(values, CONNECTOR_QUANTILE))
    if q <= 0:
        return math.inf
    if q > float(np.median(values)):
        return q
    above = values[values > q]
    return float(above.min()) if len(above) else math.inf


@dataclass
class MapScores:
    """Every person's scores on one map build as arrays (sorted by member id), and the
    connector thresholds: read once per map build and process, then looked up in memory."""

    ids: npt.NDArray[np.int64]
    pagerank: npt.NDArray[np.float64]
    brokerage: npt.NDArray[np.float64]
    community: list[int | None]
    brokerage_cut: float
    pagerank_cut: float

    def positions(self, member_ids: Sequence[int]) -> list[int]:
        """Each person's position in the arrays, or -1 for people not on the map."""
        want = np.asarray(member_ids, dtype=np.int64)
        if not len(self.ids):
            return [-1] * len(want)
        pos = np.minimum(np.searchsorted(self.ids, want), len(self.ids) - 1)
        return np.where(self.ids[pos] == want, pos, -1).tolist()  # type: ignore[no-any-return]


_SCORES: dict[object, MapScores] = {}


def map_scores() -> MapScores:
    """The current map's scores and connector thresholds (see ``connector_thresholds``)."""
    from convenor.graph import selectors as graph

    built = graph.map_built_at()
    if built in _SCORES:
        return _SCORES[built]
    scores = sorted(graph.node_scores().values(), key=lambda s: s.member_id)
    n = len(scores)
    b = np.fromiter((s.brokerage for s in scores), dtype=np.float64, count=n)
    p = np.fromiter((s.pagerank for s in scores), dtype=np.float64, count=n)
    out = MapScores(
        ids=np.fromiter((s.member_id for s in scores), dtype=np.int64, count=n),
        pagerank=p,
        brokerage=b,
        community=[s.community for s in scores],
        brokerage_cut=_cut(b) if n else math.inf,
        pagerank_cut=_cut(p) if n else math.inf,
    )
    if built is not None and n:
        _SCORES.clear()
        _SCORES[built] = out
    return out


def connector_thresholds() -> tuple[float, float]:
    """The top-decile brokerage and PageRank on the current map: at or above either is a
    connector. Computed once per map build (it reads every person's scores)."""
    m = map_scores()
    return m.brokerage_cut, m.pagerank_cut


def competing_orgs() -> set[frozenset[int]]:
    """Pairs of organisations that compete: declared `competes with` lines, and every
    organisation of kind competitor against our company."""
    from convenor.people.models import Organization, OrgKind, Relationship, RelationshipKind

    pairs = {
        frozenset((a, b))
        for a, b in Relationship.objects.filter(
            kind=RelationshipKind.COMPETES_WITH, source_org__isnull=False, target_org__isnull=False
        ).values_list("source_org_id", "target_org_id")
    }
    ours = Organization.objects.filter(kind=OrgKind.OURS).values_list("pk", flat=True).first()
    if ours is not None:
        for cid in Organization.objects.filter(kind=OrgKind.COMPETITOR).values_list("pk", flat=True):
            pairs.add(frozenset((ours, cid)))
    return pairs


# --- the pool -------------------------------------------------------------------------------


def _recently_proposed(topic: Topic) -> set[int]:
    """People proposed (or convened) for this topic within the cool-down."""
    since = timezone.now() - timedelta(days=cooldown_days())
    same = Q(suggestion__topic=topic) | Q(suggestion__topic__label=topic.label)
    proposed = SuggestionMember.objects.filter(same, suggestion__created_at__gte=since).values_list(
        "member_id", flat=True
    )
    convened = GroupMember.objects.filter(
        Q(group__topic=topic) | Q(group__topic_label=topic.label), group__created_at__gte=since
    ).values_list("member_id", flat=True)
    return set(proposed) | set(convened)


def _orgs_of(member_ids: Collection[int] | Q) -> dict[int, tuple[int, str, str]]:
    """Each person's organisation (the most recent current affiliation): (id, name, kind).

    The people are given by id, or as a condition on the affiliation's member (one joined
    query however many people it selects, rather than long lists of ids).
    """
    from convenor.people.models import Affiliation

    if isinstance(member_ids, Q):
        chunks: list[Q] = [member_ids]
    else:
        ids = list(member_ids)
        chunks = [Q(member_id__in=ids[lo : lo + 5000]) for lo in range(0, len(ids), 5000)]
    out: dict[int, tuple[int, str, str]] = {}
    for where in chunks:
        rows = (
            Affiliation.objects.filter(where, ended_on__isnull=True)
            .order_by("member_id", "started_on", "pk")
            .values_list("member_id", "organization_id", "organization__name", "organization__kind")
        )
        for mid, oid, name, kind in rows:
            out[mid] = (oid, name, kind)  # the latest wins
    return out


def pool(topic: Topic, size: int) -> tuple[list[Candidate], dict[str, int]]:
    """The people who may be proposed for `topic`, and how many each stage kept.

    Raises VALIDATION naming the first rule that cannot be met.
    """
    from convenor.people.models import Organization, OrgKind

    what = f"“{topic.interest_name or topic.label}”"
    # One joined query for the holders and what the rules need to know about them.
    rows = list(
        MemberInterest.objects.filter(topic=topic, share__gte=HOLD_SHARE, ratio__gte=HOLD_RATIO).values_list(
            "member_id",
            "share",
            "ratio",
            "member__name",
            "member__email",
            "member__role",
            "member__consent_to_contact",
            "member__observed",
            "member__meets_competitors",
        )
    )
    stages = {"hold_interest": len(rows)}
    if not rows:
        raise invalid(
            f"Nobody holds the interest {what} well above their community's average "
            f"(at least {HOLD_RATIO:g} times the average and {HOLD_SHARE:.0%} of their interests)",
            interest="an interest nobody has",
        )
    members = [r for r in rows if not r[7]]
    stages["members_not_observed"] = len(members)
    if not members:
        raise invalid(
            f"Everyone holding {what} is only observed in outside conduits, not a member yet",
            interest="no member holds it",
        )
    contactable = [r for r in members if r[6]]
    stages["consent_to_contact"] = len(contactable)
    if not contactable:
        raise invalid(
            f"Every candidate for {what} ({len(members)} people) opted out of being contacted",
            consent_to_contact="every candidate opted out",
        )
    recent = _recently_proposed(topic)
    fresh = [r for r in contactable if r[0] not in recent]
    stages["not_proposed_recently"] = len(fresh)
    if not fresh:
        raise invalid(
            f"Everyone who can be proposed for {what} was proposed for it in the last "
            f"{cooldown_days()} days (the cool-down, CONVENOR_HOTGROUPS_COOLDOWN_DAYS)",
            interest="cool-down",
        )
    if len(fresh) < size:
        raise invalid(
            f"A group of {size} is larger than the pool: only {len(fresh)} people hold {what} well above "
            f"average, can be contacted and were not proposed for it in the last {cooldown_days()} days",
            size=f"at most {len(fresh)} for this interest",
        )
    orgs = _orgs_of(
        Q(
            member__topic_interests__topic=topic,
            member__topic_interests__share__gte=HOLD_SHARE,
            member__topic_interests__ratio__gte=HOLD_RATIO,
        )
    )
    ours = Organization.objects.filter(kind=OrgKind.OURS).values_list("pk", "name").first()
    scores = map_scores()
    pagerank, brokerage = scores.pagerank.tolist(), scores.brokerage.tolist()
    bt, pt = scores.brokerage_cut, scores.pagerank_cut
    out: list[Candidate] = []
    for (mid, share, ratio, name, email, role, _, _, meets), at in zip(
        fresh, scores.positions([r[0] for r in fresh]), strict=True
    ):
        org = orgs.get(mid)
        if org is None and role == "employee" and ours is not None:
            org = (ours[0], ours[1], OrgKind.OURS)
        c = Candidate(
            member_id=mid,
            name=name,
            email=email or "",
            role=role,
            org_id=org[0] if org else None,
            org_name=org[1] if org else "",
            org_kind=org[2] if org else "",
            meets_competitors=meets,
            share=share,
            ratio=ratio,
        )
        if at >= 0:
            c.pagerank, c.brokerage, c.community = pagerank[at], brokerage[at], scores.community[at]
            c.connector = c.brokerage >= bt or c.pagerank >= pt
        out.append(c)
    _require(what, out, size)
    return out, stages


def _require(what: str, people: Sequence[Candidate], size: int) -> None:
    employees = sum(c.employee for c in people)
    if employees < MIN_EMPLOYEES:
        raise invalid(
            f"No employee holds {what} well above average and can be contacted: every group needs at least one",
            employees="no employees available",
        )
    customers = sum(c.customer for c in people)
    if customers < MIN_CUSTOMERS:
        raise invalid(
            f"Only {customers} customer(s) hold {what} well above average and can be contacted: "
            f"every group needs at least {MIN_CUSTOMERS}",
            customers="too few customers",
        )
    roles = {c.role for c in people}
    if len(roles) < MIN_ROLES:
        raise invalid(
            f"The people holding {what} have only {len(roles)} role(s) ({', '.join(sorted(roles))}): "
            f"a cross-section needs at least {MIN_ROLES}",
            roles="too few roles",
        )
    if not any(c.connector for c in people):
        raise invalid(
            f"No connector (top tenth by brokerage or PageRank on the map) holds {what}: "
            "every group needs one to carry word of mouth outward",
            connectors="no connector available",
        )
    cap = org_cap(size)
    by_org = Counter(c.org_id for c in people if c.org_id is not None)
    unaffiliated = sum(1 for c in people if c.org_id is None)
    seats = sum(min(n, cap) for n in by_org.values()) + unaffiliated
    if seats < size:
        raise invalid(
            f"Too few organisations among the people holding {what}: with at most {cap} of {size} seats "
            f"per organisation ({MAX_ORG_SHARE:.0%}) only {seats} seats can be filled",
            organizations="no organisation may hold more than 40% of the seats",
        )


def org_cap(size: int) -> int:
    return max(1, math.floor(MAX_ORG_SHARE * size + 1e-9))


# --- the rules ------------------------------------------------------------------------------


def violations(members: Sequence[Candidate], rules: Rules, size: int | None = None) -> list[str]:
    """Every rule the group breaks, in words (empty when it keeps them all)."""
    out: list[str] = []
    n = len(members)
    if size is not None and n != size:
        out.append(f"size: {n} people, not {size}")
    if len({c.member_id for c in members}) != n:
        out.append("someone appears twice")
    roles = {c.role for c in members}
    if len(roles) < MIN_ROLES:
        out.append(f"roles: {len(roles)} < {MIN_ROLES}")
    if sum(c.employee for c in members) < MIN_EMPLOYEES:
        out.append("no employee")
    if sum(c.customer for c in members) < MIN_CUSTOMERS:
        out.append(f"fewer than {MIN_CUSTOMERS} customers")
    cap = org_cap(n)
    for org, k in Counter(c.org_id for c in members if c.org_id is not None).items():
        if k > cap:
            out.append(f"organisation {org} holds {k} of {n} seats")
    if not any(c.connector for c in members):
        out.append("no connector")
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            if rules.conflict(a, b):
                out.append(f"competitors {a.org_name} and {b.org_name} without both opting in")
    for c in members:
        if c.share < HOLD_SHARE or c.ratio < HOLD_RATIO:
            out.append(f"{c.name} does not hold the interest well above average")
    return out


# --- building -------------------------------------------------------------------------------


def _shortlist(people: list[Candidate]) -> list[Candidate]:
    by_ratio = sorted(people, key=lambda c: (-c.ratio, c.member_id))
    chosen = {c.member_id: c for c in by_ratio[:POOL_TOP]}
    for pick in (
        lambda c: c.employee,
        lambda c: c.customer,
        lambda c: c.connector,
        lambda c: not c.employee and not c.customer,
    ):
        for c in [c for c in by_ratio if pick(c)][:POOL_PER_NEED]:
            chosen.setdefault(c.member_id, c)
    # A few of every organisation's best, so the seat cap can always be met.
    per_org: Counter[int | None] = Counter()
    for c in by_ratio:
        if per_org[c.org_id] < 2 and len(chosen) < POOL_TOP * 3:
            chosen.setdefault(c.member_id, c)
        per_org[c.org_id] += 1
    return list(chosen.values())


class _Arrays:
    """A shortlist as arrays, for the greedy search: roles, organisations, connectors, and
    which pairs conflict (competing organisations without both opting in) or are joined on
    the map. Built once per topic; a search then costs a few array operations per seat."""

    def __init__(self, people: Sequence[Candidate], rules: Rules) -> None:
        n = len(people)
        self.people = list(people)
        self.ids = np.array([c.member_id for c in people], dtype=np.int64)
        self.ratio = np.array([c.ratio for c in people], dtype=np.float64)
        self.connector = np.array([c.connector for c in people], dtype=bool)
        self.employee = np.array([c.employee for c in people], dtype=bool)
        self.customer = np.array([c.customer for c in people], dtype=bool)
        roles = sorted({c.role for c in people} | {"employee", "customer"})
        self.emp_role, self.cust_role = roles.index("employee"), roles.index("customer")
        self.n_roles = len(roles)
        self.role = np.array([roles.index(c.role) for c in people], dtype=np.int64)
        org_ids = sorted({c.org_id for c in people if c.org_id is not None})
        org_pos = {o: i for i, o in enumerate(org_ids)}
        self.n_orgs = len(org_ids)
        self.org = np.array([org_pos[c.org_id] if c.org_id is not None else -1 for c in people], dtype=np.int64)
        competes = np.zeros((self.n_orgs, self.n_orgs), dtype=bool)
        for pair in rules.competing:
            if len(pair) == 2:
                a, b = tuple(pair)
                if a in org_pos and b in org_pos:
                    competes[org_pos[a], org_pos[b]] = competes[org_pos[b], org_pos[a]] = True
        has = self.org >= 0
        safe = np.where(has, self.org, 0)
        meets = np.array([c.meets_competitors for c in people], dtype=bool)
        self.conflict = (
            has[:, None]
            & has[None, :]
            & (self.org[:, None] != self.org[None, :])
            & competes[safe[:, None], safe[None, :]]
            & ~(meets[:, None] & meets[None, :])
        )
        pos = {m: i for i, m in enumerate(self.ids.tolist())}
        self.joined = np.zeros((n, n), dtype=bool)
        for a, b in rules.connected:
            i, j = pos.get(a), pos.get(b)
            if i is not None and j is not None:
                self.joined[i, j] = self.joined[j, i] = True


def _build_at(arr: _Arrays, start: int, avail: npt.NDArray[np.bool_], size: int) -> list[int] | None:
    """The greedy search from `start` over the people where `avail` is set (positions in
    `arr`): each seat goes to the person with the highest gain (ties to the lowest member
    id) among those who break no rule and leave enough seats for what is still required.

    The gain of adding someone: their interest (ratio, capped at the best in the pool, over
    it), plus 0.8 times the share of the group they are not yet joined to, plus 0.5 for the
    first connector (0.1 for any later one), 0.6 for a role not yet in the group while it has
    fewer than four, 0.6 for the first employee, 0.5 for a customer while fewer than two.
    """
    cap = org_cap(size)
    top_ratio = float(arr.ratio[avail].max())
    interest = np.minimum(arr.ratio, top_ratio) / top_ratio
    left = avail.copy()
    left[start] = False
    group = [start]
    org_seats = np.zeros(arr.n_orgs + 1, dtype=np.int64)  # the last slot: no organisation
    org_seats[arr.org[start]] += 1
    blocked = arr.conflict[start].copy()
    joined_to = arr.joined[start].astype(np.int64)
    roles = np.zeros(arr.n_roles, dtype=bool)
    roles[arr.role[start]] = True
    employees, customers = int(arr.employee[start]), int(arr.customer[start])
    connected = bool(arr.connector[start])
    has_org = arr.org >= 0
    new_role = ~roles[arr.role]
    while len(group) < size:
        n = len(group)
        ok = left & ~blocked & ~(has_org & (org_seats[arr.org] >= cap))
        # The seats still required once this person sits: an employee, two customers,
        # three roles, and a connector (counted only when nothing else is still needed,
        # since a connector can fill a role seat too).
        emp = np.maximum(0, MIN_EMPLOYEES - (employees + arr.employee))
        cust = np.maximum(0, MIN_CUSTOMERS - (customers + arr.customer))
        n_roles = int(roles.sum()) + new_role
        n_roles = n_roles + ((emp > 0) & ~roles[arr.emp_role] & (arr.role != arr.emp_role))
        n_roles = n_roles + ((cust > 0) & ~roles[arr.cust_role] & (arr.role != arr.cust_role))
        extra = np.maximum(0, MIN_ROLES - n_roles)
        required = emp + cust + extra
        needs = required + np.where(required == 0, (~(connected | arr.connector)).astype(np.int64), 0)
        ok &= needs <= size - n - 1
        if not ok.any():
            return None
        n_group_roles = int(roles.sum())
        gain = (
            interest
            + 0.8 * ((n - joined_to) / max(1, n))
            + (np.where(arr.connector, 0.1, 0.0) if connected else np.where(arr.connector, 0.5, 0.0))
            + (np.where(new_role, 0.6, 0.0) if n_group_roles < MIN_ROLES + 1 else 0.0)
            + (np.where(arr.employee, 0.6, 0.0) if employees == 0 else 0.0)
            + (np.where(arr.customer, 0.5, 0.0) if customers < MIN_CUSTOMERS else 0.0)
        )
        tied = np.flatnonzero(ok & (gain == gain[ok].max()))
        pick = int(tied[np.argmin(arr.ids[tied])])
        group.append(pick)
        left[pick] = False
        org_seats[arr.org[pick]] += 1
        blocked |= arr.conflict[pick]
        joined_to += arr.joined[pick]
        roles[arr.role[pick]] = True
        new_role = ~roles[arr.role]
        employees += int(arr.employee[pick])
        customers += int(arr.customer[pick])
        connected = connected or bool(arr.connector[pick])
    return group


def score_group(members: Sequence[Candidate], rules: Rules) -> tuple[float, int, int]:
    """A score from 0 to 100: interest, new ties, role mix, connectors; with the pair counts."""
    n = len(members)
    pairs = n * (n - 1) // 2
    joined = sum(1 for i, a in enumerate(members) for b in members[i + 1 :] if rules.joined(a.member_id, b.member_id))
    interest = float(np.mean([min(c.ratio, 10.0) / 10.0 for c in members]))
    roles = min(1.0, len({c.role for c in members}) / 5)
    connectors = min(1.0, sum(c.connector for c in members) / 2)
    new_share = (pairs - joined) / pairs if pairs else 0.0
    score = 100 * (0.4 * interest + 0.3 * new_share + 0.2 * roles + 0.1 * connectors)
    return round(score, 1), pairs, joined


def explain(topic: Topic, members: Sequence[Candidate], rules: Rules) -> tuple[str, dict[str, Any]]:
    """The reasons for a group in words, and the figures behind them."""
    _, pairs, joined = score_group(members, rules)
    n = len(members)
    roles = Counter(c.role for c in members)
    orgs = Counter(c.org_name or "no organisation" for c in members)
    biggest, biggest_n = orgs.most_common(1)[0]
    connectors = sorted((c for c in members if c.connector), key=lambda c: (-c.brokerage, -c.pagerank))
    mean_ratio = float(np.mean([c.ratio for c in members]))
    terms = list(topic.terms[:5])
    role_words = ", ".join(f"{k} {r.replace('_', ' ')}{'s' if k > 1 else ''}" for r, k in roles.most_common())
    conn_words = ", ".join(
        f"{c.name} (brokerage {c.brokerage:.2f}, PageRank {c.pagerank:.4f})" for c in connectors[:3]
    ) + (f" and {len(connectors) - 3} more" if len(connectors) > 3 else "")
    name = f"“{topic.interest_name}” ({topic.label})" if topic.interest_name else f"“{topic.label}”"
    text = (
        f"All {n} share the interest {name}, on average {mean_ratio:.1f} times their community's average; "
        f"shared terms: {', '.join(terms)}. "
        f"Mix: {role_words}, from {len(orgs)} organisations (the largest, {biggest}, holds {biggest_n} of {n} seats). "
        f"Connectors to carry word of mouth: {conn_words}. "
        f"New ties: {pairs - joined} of {pairs} pairs are not yet connected on the map."
    )
    details = {
        "terms": terms,
        "roles": dict(roles),
        "organizations": dict(orgs),
        "connectors": [c.member_id for c in connectors],
        "pairs": pairs,
        "connected_pairs": joined,
        "new_pairs": pairs - joined,
        "mean_ratio": round(mean_ratio, 2),
    }
    return text, details


def propose(topic: Topic, *, size: int = DEFAULT_SIZE, limit: int = 1) -> list[Proposal]:
    """Up to `limit` disjoint groups of `size` for `topic`, best first.

    Raises CONFLICT without a map and VALIDATION naming the rule that cannot be met;
    returns fewer than `limit` only when the pool runs out after at least one group.
    """
    from convenor.graph import selectors as graph

    check_size(size, limit)
    require_map()
    people, _ = pool(topic, size)
    short = _shortlist(people)
    rules = Rules(competing=competing_orgs(), connected=graph.connected_pairs([c.member_id for c in short]))
    arr = _Arrays(short, rules)
    out: list[Proposal] = []
    avail = np.ones(len(short), dtype=bool)
    last_problem = ""
    for _ in range(limit):
        connectors = np.flatnonzero(avail & arr.connector).tolist()
        starts = sorted(connectors, key=lambda i: (-short[i].ratio, short[i].member_id))[:ATTEMPTS]
        best: tuple[float, list[Candidate]] | None = None
        for start in starts:
            found = _build_at(arr, start, avail, size)
            if found is None:
                continue
            group = [short[i] for i in found]
            problems = violations(group, rules, size)
            if problems:
                last_problem = problems[0]
                continue
            s = score_group(group, rules)[0]
            if best is None or s > best[0]:
                best = (s, group)
        if best is None:
            break
        avail &= ~np.isin(arr.ids, [c.member_id for c in best[1]])
        text, details = explain(topic, best[1], rules)
        out.append(Proposal(topic=topic, members=best[1], score=best[0], explanation=text, details=details))
    if not out:
        what = f"“{topic.interest_name or topic.label}”"
        # Would a group be possible if competitors could meet? Then they are what stands in the way.
        loose = _Arrays(short, Rules(competing=set(), connected=rules.connected))
        everyone = np.ones(len(short), dtype=bool)
        if any(_build_at(loose, i, everyone, size) is not None for i in np.flatnonzero(loose.connector).tolist()):
            pairs = sorted(
                {f"{a.org_name} and {b.org_name}" for a, b in itertools.combinations(short, 2) if rules.conflict(a, b)}
            )
            raise invalid(
                f"No group of {size} for {what} can keep every rule: it would need people from competing "
                f"organisations who have not both agreed to meet competitors ({'; '.join(pairs[:3])})",
                interest="competing organisations",
            )
        reason = last_problem or (
            "people from competing organisations who did not opt in, or the 40% seat cap, leave no way to seat "
            "an employee, two customers, three roles and a connector together"
        )
        raise invalid(
            f"No group of {size} for {what} can keep every rule: {reason}",
            interest="no group keeps every rule",
        )
    return out


def check_size(size: int, limit: int) -> None:
    fields: dict[str, list[str]] = {}
    if not MIN_SIZE <= size <= MAX_SIZE:
        fields["size"] = [f"From {MIN_SIZE} to {MAX_SIZE} people, not {size}"]
    if not 1 <= limit <= MAX_LIMIT:
        fields["limit"] = [f"From 1 to {MAX_LIMIT} suggestions, not {limit}"]
    if fields:
        raise ApplicationError(ErrorCode.VALIDATION, "The suggestion request is not valid", fields=fields)


def candidates_of(member_ids: Iterable[int], topic: Topic | None) -> list[Candidate]:
    """Stored people as candidates again (for the rules check of a stored suggestion)."""
    from convenor.graph import selectors as graph
    from convenor.people.models import Member

    ids = list(member_ids)
    interests = (
        {
            m: (s, r)
            for m, s, r in MemberInterest.objects.filter(topic=topic, member_id__in=ids).values_list(
                "member_id", "share", "ratio"
            )
        }
        if topic is not None
        else {}
    )
    orgs = _orgs_of(ids)
    scores: dict[int, Any] = {}
    bt, pt = math.inf, math.inf
    try:
        if graph.map_built_at() is not None:
            scores = graph.node_scores(ids)
            bt, pt = connector_thresholds()
    except NotImplementedError:
        pass
    out = []
    for mid, name, email, role, meets in Member.objects.filter(pk__in=ids).values_list(
        "pk", "name", "email", "role", "meets_competitors"
    ):
        org = orgs.get(mid)
        s = scores.get(mid)
        share, ratio = interests.get(mid, (0.0, 0.0))
        out.append(
            Candidate(
                member_id=mid,
                name=name,
                email=email or "",
                role=role,
                org_id=org[0] if org else None,
                org_name=org[1] if org else "",
                org_kind=org[2] if org else "",
                meets_competitors=meets,
                share=share,
                ratio=ratio,
                pagerank=s.pagerank if s else 0.0,
                brokerage=s.brokerage if s else 0.0,
                community=s.community if s else None,
                connector=bool(s and (s.brokerage >= bt or s.pagerank >= pt)),
            )
        )
    return out
