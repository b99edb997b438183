"""Word of mouth: after each gathering, did the group's topic spread beyond the group?

For each past gathering at time t, the treated people are the members' first-degree
neighbours on the map (not members themselves). Their posts on the group's topic (each
post's strongest topic, see profiles.py) in the 30 days after t are compared with the 30
days before, against a matched control: for every neighbour, a person on the map who is
neither a member nor a neighbour nor convened on the topic, with the same role and a
similar number of lines (degree bucket) and the same before-window activity (none or
some). The lift is the difference in differences of topic posts per person; its 95%
interval comes from a bootstrap over people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from django.utils import timezone

from convenor.events.models import Event
from convenor.hotgroups.models import LIVE_STATES, Group, GroupMember, PostTopic, Spread, Topic

WINDOW_DAYS = 30
BOOTSTRAP = 1000
IntArray = npt.NDArray[np.int64]


@dataclass
class Estimate:
    treated: int
    controls: int
    treated_before: float
    treated_after: float
    control_before: float
    control_after: float
    lift: float
    ci_low: float
    ci_high: float


def did(
    t_before: npt.NDArray[np.float64],
    t_after: npt.NDArray[np.float64],
    c_before: npt.NDArray[np.float64],
    c_after: npt.NDArray[np.float64],
    *,
    seed: int = 0,
    rounds: int = BOOTSTRAP,
) -> Estimate:
    """Difference in differences with a percentile bootstrap interval (pure; unit-tested)."""
    dt, dc = t_after - t_before, c_after - c_before
    if len(dt) == 0 or len(dc) == 0:
        return Estimate(len(dt), len(dc), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    lift = float(dt.mean() - dc.mean())
    rng = np.random.default_rng(seed)
    bt = dt[rng.integers(0, len(dt), size=(rounds, len(dt)))].mean(axis=1)
    bc = dc[rng.integers(0, len(dc), size=(rounds, len(dc)))].mean(axis=1)
    lo, hi = np.quantile(bt - bc, [0.025, 0.975])
    return Estimate(
        treated=len(dt),
        controls=len(dc),
        treated_before=float(t_before.mean()),
        treated_after=float(t_after.mean()),
        control_before=float(c_before.mean()),
        control_after=float(c_after.mean()),
        lift=round(lift, 4),
        ci_low=round(float(lo), 4),
        ci_high=round(float(hi), 4),
    )


def _topic_of(group: Group) -> Topic | None:
    """The group's topic in the current model (matched by label after a refit)."""
    from convenor.hotgroups.profiles import current_model

    model = current_model()
    if model is None:
        return None
    if group.topic is not None and group.topic.model_id == model.pk:
        return group.topic
    return (
        Topic.objects.filter(model=model, interest_name=group.topic_label).first()
        or Topic.objects.filter(model=model, label=group.topic_label).first()
    )


def _counts(topic: Topic, people: IntArray, start: datetime, end: datetime) -> IntArray:
    """Topic posts by each of `people` (in order) in [start, end)."""
    authors = np.fromiter(
        PostTopic.objects.filter(topic=topic, created_at__gte=start, created_at__lt=end).values_list(
            "author_id", flat=True
        ),
        dtype=np.int64,
    )
    if len(people) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(people)
    sorted_people = people[order]
    pos = np.searchsorted(sorted_people, authors)
    pos = np.minimum(pos, len(people) - 1)
    hit = sorted_people[pos] == authors
    out = np.zeros(len(people), dtype=np.int64)
    np.add.at(out, order[pos[hit]], 1)
    return out


def spread_measure(*, group: Group, now: datetime | None = None) -> list[Spread]:
    """Measure (again) the spread after every past gathering of `group`; returns the rows.

    Safe to re-run: one row per gathering, updated. Gatherings whose 30 days after are not
    over are measured so far and marked incomplete. Without a map or profiles, returns [].
    """
    from convenor.graph import selectors as graph
    from convenor.people.models import Member

    now = now or timezone.now()
    topic = _topic_of(group)
    try:
        built = graph.map_built_at()
    except NotImplementedError:
        built = None
    if topic is None or built is None or group.series_id is None:
        return []
    events = list(
        Event.objects.filter(series_id=group.series_id, cancelled_at__isnull=True, starts_at__lt=now).order_by(
            "starts_at"
        )
    )
    if not events:
        return []
    member_ids = set(
        GroupMember.objects.filter(group=group, state__in=LIVE_STATES).values_list("member_id", flat=True)
    ) | {group.facilitator_id}
    around = graph.neighbours(list(member_ids))
    treated = np.array(sorted(set().union(*around.values()) - member_ids) if around else [], dtype=np.int64)
    scores = graph.node_scores()
    convened = set(GroupMember.objects.filter(group__topic_label=group.topic_label).values_list("member_id", flat=True))
    excluded = member_ids | set(treated.tolist()) | convened
    pool = np.array(sorted(m for m in scores if m not in excluded), dtype=np.int64)
    roles = dict(Member.objects.filter(pk__in=[*treated.tolist(), *pool.tolist()]).values_list("pk", "role"))

    def bucket(m: int) -> int:
        s = scores.get(m)
        return int(np.log2((s.degree if s else 0) + 1))

    out: list[Spread] = []
    for event in events:
        t = event.starts_at
        before_start, after_end = t - timedelta(days=WINDOW_DAYS), t + timedelta(days=WINDOW_DAYS)
        tb = _counts(topic, treated, before_start, t)
        ta = _counts(topic, treated, t, min(after_end, now))
        pb = _counts(topic, pool, before_start, t)
        pa = _counts(topic, pool, t, min(after_end, now))
        strata: dict[tuple[str, int, bool], list[int]] = {}
        for i, m in enumerate(pool.tolist()):
            strata.setdefault((roles.get(m, ""), bucket(m), bool(pb[i] > 0)), []).append(i)
        rng = np.random.default_rng(group.pk * 1_000_003 + event.pk)
        keep_t: list[int] = []
        match_c: list[int] = []
        for i, m in enumerate(treated.tolist()):
            options = strata.get((roles.get(m, ""), bucket(m), bool(tb[i] > 0)))
            if options:
                keep_t.append(i)
                match_c.append(options[int(rng.integers(0, len(options)))])
        kt, kc = np.array(keep_t, dtype=np.int64), np.array(match_c, dtype=np.int64)
        est = did(
            tb[kt].astype(np.float64),
            ta[kt].astype(np.float64),
            pb[kc].astype(np.float64),
            pa[kc].astype(np.float64),
            seed=int(event.pk),
        )
        row, _ = Spread.objects.update_or_create(
            group=group,
            event=event,
            defaults={
                "measured_at": now,
                "window_days": WINDOW_DAYS,
                "treated": est.treated,
                "controls": est.controls,
                "treated_before": est.treated_before,
                "treated_after": est.treated_after,
                "control_before": est.control_before,
                "control_after": est.control_after,
                "lift": est.lift,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "complete": now >= after_end,
            },
        )
        out.append(row)
    return out
