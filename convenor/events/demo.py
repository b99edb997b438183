"""The demo events: community and commercial gatherings, past and upcoming, with their
hosts and speakers, registrations with intents, attendance, surveys and activities.

Called by ``convenor.people.demo._build`` after the conversations, in the same transaction
and with the same technique: choices are made with numpy, rows are written with multi-row
``executemany`` and explicit ids (events and registrations), and the activity log gets
exactly the rows :mod:`convenor.events.services` records (``event-host:<event>:<member>``,
``event-registration:<id>`` with the intent, ``event-prospect:<id>`` from the commercial
owner for buyers, ``event-attended:<event>:<member>``), all placed at ``("event", id)``.

The volume is small on purpose (about one event per 500 members, from 8 to 400): an event
is a rare, planned thing. Most are well framed; about one past event in five is
mismatched, for example a community "Get the most out of X" session whose audience came
mostly to buy and rated its framing low, so the dashboard and the fit report have something
to flag.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from convenor.activity.models import NATIVE_SOURCE, Activity, Verb
from convenor.events.models import (
    CheckState,
    Event,
    EventRole,
    Frame,
    Intent,
    Registration,
    RegistrationState,
    RoleKind,
    Survey,
    Visibility,
)
from convenor.spaces import markdown
from convenor.spaces.demo import People, Tick, _writer
from convenor.spaces.models import Space

IntArray = npt.NDArray[np.int64]

PLACE = "event"  # as convenor.events.services records it
DAY = 86_400
MEMBERS_PER_EVENT = 500
MIN_EVENTS, MAX_EVENTS = 8, 400
PAST_SHARE = 0.6
COMMERCIAL_SHARE = 0.4
MISMATCH_SHARE = 0.2  # of past events
ZONES = ["Europe/Paris", "Europe/Paris", "Europe/London", "America/New_York", "Europe/Berlin"]
PLACES = [
    "Lyon office, 3rd floor",
    "Paris, Station F, room Ada",
    "London office, Shoreditch",
    "New York office, 5th Avenue",
    "Berlin, Factory Görlitzer Park",
]

COMMUNITY_TITLES = [
    "Get the most out of {topic}",
    "{topic} users meetup",
    "{topic} office hours",
    "Show and tell: {topic} in production",
    "{topic} tips and tricks evening",
]
COMMUNITY_TEXT = (
    "An evening for people who use {topic_l} every day. Two short talks from users, then "
    "open questions: bring the problem you are stuck on and leave with ideas from peers.\n\n"
    "- how others set up {topic_l}\n- the mistakes they made once\n- what they would do again"
)
COMMERCIAL_TITLES = [
    "{topic} Pro: what's in the new plan",
    "Migrating to {topic} Enterprise",
    "{topic} for growing teams: pricing and packages",
    "Briefing: {topic} with our migration service",
]
COMMERCIAL_TEXT = (
    "A session for teams evaluating {topic_l}. We present the plans, the migration service "
    "and what it costs, with time for your purchasing questions."
)
BRIEF_AUDIENCE = ["teams evaluating {topic_l}", "heads of {topic_l} at growing companies", "buyers renewing {topic_l}"]
BRIEF_REASON = [
    "their current setup does not keep up with their growth",
    "their contract is up for renewal this year",
    "they need audit trails and support hours their plan lacks",
]
BRIEF_OFFER = [
    "{topic} Pro with onboarding",
    "{topic} Enterprise and a migration service",
    "a three-month pilot of {topic} Pro",
]
BRIEF_PAYMENT = [
    "a yearly subscription per workspace",
    "a monthly fee per seat, billed quarterly",
    "a fixed-price pilot, then a yearly subscription",
]
GOOD_COMMENTS = [
    "Exactly what the invitation said.",
    "Useful and honest about what it was.",
    "Great talks from people who actually use it.",
    "Clear pricing, clear offer: what I came for.",
]
BAD_COMMENTS = [
    "I came to learn from other users and got a sales pitch.",
    "Half the room wanted prices; the session was not for them.",
    "Not what the framing promised.",
    "Too technical for people who are still deciding.",
]

# Intent mixes (user, buyer, other) by (frame, well framed?).
MIX = {
    (Frame.COMMUNITY, True): [0.8, 0.08, 0.12],
    (Frame.COMMUNITY, False): [0.25, 0.65, 0.10],
    (Frame.COMMERCIAL, True): [0.15, 0.7, 0.15],
    (Frame.COMMERCIAL, False): [0.65, 0.25, 0.10],
}
INTENTS = np.array([Intent.USER.value, Intent.BUYER.value, Intent.OTHER.value], dtype=object)


def event_count(n: int) -> int:
    return int(np.clip(n // MEMBERS_PER_EVENT, MIN_EVENTS, MAX_EVENTS))


def _ts(seconds: IntArray) -> list[str]:
    from convenor.people.demo import _timestamps

    return _timestamps(np.asarray(seconds, dtype=np.int64))


def _start(day: int, hour: int, zone: str) -> int:
    """Epoch seconds of `hour`:00 local time in `zone`, `day` days from the epoch."""
    local = datetime(1970, 1, 1) + timedelta(days=day)
    aware = local.replace(hour=hour, tzinfo=ZoneInfo(zone))
    return int(aware.astimezone(UTC).timestamp())


def build_events(cursor: Any, people: People, seed: int, now_text: str, tick: Tick) -> dict[str, int]:
    """Plan and write the events; returns row counts by table."""
    from convenor.people.demo import _max_id

    insert = _writer(cursor, tick)
    rng = np.random.default_rng([seed, 4])
    n, now = people.n, people.now
    mid = people.member_id
    kind = people.member_kind
    employees = np.flatnonzero(kind == people.kinds["ours"])
    customers = np.flatnonzero(kind == people.kinds["customer"])
    others = np.flatnonzero(kind != people.kinds["ours"])
    sales = people.staff[2]
    topics = people.interest_names[:12] or ["the platform"]

    # The open spaces (not a customer's private one) the events can belong to, by frame.
    spaces = list(
        Space.objects.filter(organization__isnull=True, archived_at__isnull=True)
        .exclude(visibility=Visibility.ACCOUNT)
        .order_by("pk")
        .values_list("pk", "frame", "visibility")
    )
    space_by_frame = {f: [(pk, vis) for pk, fr, vis in spaces if fr == f] for f in Frame.values}

    n_events = event_count(n)
    event_base = _max_id(cursor, Event._meta.db_table) + 1
    reg_base = _max_id(cursor, Registration._meta.db_table) + 1
    today = now // DAY

    past = np.zeros(n_events, dtype=bool)
    past[: round(n_events * PAST_SHARE)] = True
    commercial = rng.random(n_events) < COMMERCIAL_SHARE
    # Both frames in the past and upcoming, whatever the dice say.
    commercial[0], commercial[1] = False, True
    n_past = int(past.sum())
    commercial[n_past], commercial[min(n_past + 1, n_events - 1)] = False, True
    well = np.ones(n_events, dtype=bool)
    well[:n_past] = rng.random(n_past) >= MISMATCH_SHARE
    well[0] = False  # a community "Get the most out of X" whose audience came to buy
    well[2 % n_past] = True

    ev: dict[str, list[Any]] = {k: [] for k in ("id", "title", "description", "description_html", "starts", "ends")}
    ev.update({k: [] for k in ("zone", "place", "online_url", "capacity", "frame", "owner", "space", "visibility")})
    ev.update({k: [] for k in ("audience", "reason", "offer", "payment", "created")})
    roles: list[tuple[int, int, str]] = []  # (event index, member index, role)
    regs: dict[str, list[Any]] = {
        k: [] for k in ("event", "member", "intent", "state", "position", "created", "cancelled", "attended", "noshow")
    }
    regs["ack"], regs["fit"], regs["comment"] = [], [], []

    for e in range(n_events):
        frame = Frame.COMMERCIAL if commercial[e] else Frame.COMMUNITY
        topic = topics[int(rng.integers(len(topics)))]
        fmt = {"topic": topic, "topic_l": topic.lower()}
        if frame == Frame.COMMUNITY:
            # The mismatched one is the classic: "Get the most out of X".
            title = (COMMUNITY_TITLES[0] if not well[e] else rng.choice(COMMUNITY_TITLES)).format(**fmt)
            text = COMMUNITY_TEXT.format(**fmt)
        else:
            title = str(rng.choice(COMMERCIAL_TITLES)).format(**fmt)
            text = COMMERCIAL_TEXT.format(**fmt)
        day = today - int(rng.integers(3, 365)) if past[e] else today + int(rng.integers(2, 90))
        zone = ZONES[int(rng.integers(len(ZONES)))]
        starts = _start(day, int(rng.integers(9, 19)), zone)
        ends = starts + int(rng.choice([3600, 5400, 7200]))
        online = frame == Frame.COMMERCIAL and rng.random() < 0.6
        candidates = space_by_frame.get(frame, [])
        in_space = candidates and rng.random() < 0.7
        space_pk, visibility = (
            candidates[int(rng.integers(len(candidates)))] if in_space else (None, str(Visibility.MEMBERS))
        )
        capacity = int(rng.choice([20, 30, 40, 60, 80, 120]))
        owner = (sales if rng.random() < 0.5 else int(rng.choice(employees))) if frame == Frame.COMMERCIAL else -1
        ev["id"].append(event_base + e)
        ev["title"].append(title[:200])
        ev["description"].append(text)
        ev["description_html"].append(markdown.render(text))
        ev["starts"].append(starts)
        ev["ends"].append(ends)
        ev["zone"].append(zone)
        ev["place"].append("" if online else PLACES[ZONES.index(zone) % len(PLACES)])
        ev["online_url"].append(f"https://meet.example/{event_base + e}" if online else "")
        ev["capacity"].append(capacity)
        ev["frame"].append(str(frame))
        ev["owner"].append(owner)
        ev["space"].append(space_pk if space_pk is not None else -1)
        ev["visibility"].append(visibility)
        ev["created"].append(starts - int(rng.integers(20, 60)) * DAY)
        brief = [BRIEF_AUDIENCE, BRIEF_REASON, BRIEF_OFFER, BRIEF_PAYMENT]
        for key, bank in zip(("audience", "reason", "offer", "payment"), brief, strict=True):
            ev[key].append(str(rng.choice(bank)).format(**fmt) if frame == Frame.COMMERCIAL else "")

        # Hosts and speakers: employees; community events often give the floor to a customer.
        hosts = rng.choice(employees, size=min(len(employees), int(rng.integers(1, 3))), replace=False)
        if owner >= 0 and owner not in hosts:
            hosts = np.r_[hosts[:1], owner]
        roles += [(e, int(h), RoleKind.HOST.value) for h in hosts]
        if frame == Frame.COMMUNITY and len(customers):
            speaker = int(rng.choice(customers))
            roles.append((e, speaker, RoleKind.SPEAKER.value))
        else:
            speaker = int(rng.choice(employees))
            roles.append((e, speaker, RoleKind.SPEAKER.value))
        busy = {int(h) for h in hosts} | {speaker}

        # The audience: mostly customers, some partners, prospects and others.
        size = min(len(others) - len(busy), int(capacity * rng.uniform(0.5, 1.15)) + int(rng.integers(0, 4)))
        # `others` is sorted and distinct (flatnonzero), so this is setdiff1d(others, busy)
        # without its unique() of 100k+ members per event (numpy 2's hash-based unique made
        # that most of the events' time).
        pool = others[~np.isin(others, np.array(sorted(busy), dtype=np.int64))]
        who = rng.choice(pool, size=max(0, min(size, len(pool))), replace=False)
        k = len(who)
        intent = INTENTS[rng.choice(3, size=k, p=MIX[(frame, bool(well[e]))])]
        created = starts - rng.integers(DAY, 30 * DAY, size=k)
        if not past[e]:
            created = np.minimum(created, now - rng.integers(60, DAY, size=k))
        order = np.argsort(created, kind="stable")
        who, intent, created = who[order], intent[order], created[order]
        cancelled = rng.random(k) < 0.05
        state = np.full(k, RegistrationState.CONFIRMED.value, dtype=object)
        position = np.full(k, -1, dtype=np.int64)
        live = np.flatnonzero(~cancelled)
        over = live[capacity:]  # first come, first seated; the rest wait in order
        state[over] = RegistrationState.WAITLISTED.value
        position[over] = np.arange(1, len(over) + 1)
        state[cancelled] = RegistrationState.CANCELLED.value
        confirmed = state == RegistrationState.CONFIRMED.value
        attended = confirmed & (rng.random(k) < (0.75 if past[e] else 0.0))
        noshow = confirmed & ~attended & (rng.random(k) < 0.8) & past[e]
        mismatch = ((intent == Intent.BUYER.value) & (frame == Frame.COMMUNITY)) | (
            (intent == Intent.USER.value) & (frame == Frame.COMMERCIAL)
        )
        answered = attended & (rng.random(k) < 0.55)
        if well[e]:
            fit = rng.choice([3, 4, 5], size=k, p=[0.15, 0.45, 0.4])
        else:
            fit = rng.choice([1, 2, 3, 4], size=k, p=[0.35, 0.4, 0.15, 0.1])
        bank = GOOD_COMMENTS if well[e] else BAD_COMMENTS
        comment = np.where(rng.random(k) < 0.5, np.array(bank, dtype=object)[rng.integers(0, len(bank), size=k)], "")
        regs["event"] += [e] * k
        regs["member"] += who.tolist()
        regs["intent"] += intent.tolist()
        regs["state"] += state.tolist()
        regs["position"] += position.tolist()
        regs["created"] += created.tolist()
        regs["cancelled"] += np.where(cancelled, np.minimum(created + DAY, starts - 3600), -1).tolist()
        regs["attended"] += np.where(attended, starts + rng.integers(0, 1200, size=k), -1).tolist()
        regs["noshow"] += noshow.tolist()
        regs["ack"] += mismatch.tolist()
        regs["fit"] += np.where(answered, fit, -1).tolist()
        regs["comment"] += comment.tolist()

    counts: dict[str, int] = {}
    starts_a = np.array(ev["starts"], dtype=np.int64)
    ends_a = np.array(ev["ends"], dtype=np.int64)
    created_a = np.array(ev["created"], dtype=np.int64)
    owner_a = np.array(ev["owner"], dtype=np.int64)
    counts["events"] = insert(
        Event._meta.db_table,
        {
            "id": ev["id"],
            "title": ev["title"],
            "description": ev["description"],
            "description_html": ev["description_html"],
            "starts_at": _ts(starts_a),
            "ends_at": _ts(ends_a),
            "time_zone": ev["zone"],
            "place": ev["place"],
            "online_url": ev["online_url"],
            "capacity": ev["capacity"],
            "registration_closes_at": None,
            "frame": ev["frame"],
            "brief_audience": ev["audience"],
            "brief_reason": ev["reason"],
            "brief_offer": ev["offer"],
            "brief_payment": ev["payment"],
            "commercial_owner_id": np.where(owner_a >= 0, mid[np.maximum(owner_a, 0)], -1).tolist(),
            "space_id": ev["space"],
            "group_id": None,
            "organization_id": None,
            "visibility": ev["visibility"],
            "series_id": None,
            "created_by_id": None,
            "created_at": _ts(created_a),
            "updated_at": _ts(created_a),
            # The demo's community texts are written not to sell; they are marked checked.
            "check_state": CheckState.OK.value,
            "check_score": None,
            "check_reasons": "[]",
            "cancelled_at": None,
            "sequence": 0,
        },
        nulls=("commercial_owner_id", "space_id"),
    )
    event_ids = np.array(ev["id"], dtype=np.int64)
    r_event = np.array([r[0] for r in roles], dtype=np.int64)
    r_member = np.array([r[1] for r in roles], dtype=np.int64)
    r_role = [r[2] for r in roles]
    counts["roles"] = insert(
        EventRole._meta.db_table,
        {"event_id": event_ids[r_event].tolist(), "member_id": mid[r_member].tolist(), "role": r_role},
    )

    g_event = np.array(regs["event"], dtype=np.int64)
    g_member = np.array(regs["member"], dtype=np.int64)
    g_created = np.array(regs["created"], dtype=np.int64)
    g_cancel = np.array(regs["cancelled"], dtype=np.int64)
    g_attended = np.array(regs["attended"], dtype=np.int64)
    g_intent = np.array(regs["intent"], dtype=object)
    g_fit = np.array(regs["fit"], dtype=np.int64)
    reg_ids = reg_base + np.arange(len(g_event), dtype=np.int64)

    def stamps(seconds: IntArray) -> list[Any]:
        text = np.array(_ts(np.maximum(seconds, 0)), dtype=object)
        text[seconds < 0] = None
        out: list[Any] = text.tolist()
        return out

    counts["registrations"] = insert(
        Registration._meta.db_table,
        {
            "id": reg_ids.tolist(),
            "event_id": event_ids[g_event].tolist(),
            "member_id": mid[g_member].tolist(),
            "intent": regs["intent"],
            "state": regs["state"],
            "waitlist_position": regs["position"],
            "created_at": _ts(g_created),
            "cancelled_at": stamps(g_cancel),
            "attended_at": stamps(g_attended),
            "no_show": regs["noshow"],
            "acknowledged_frame_mismatch": regs["ack"],
        },
        nulls=("waitlist_position",),
    )
    answered = np.flatnonzero(g_fit > 0)
    survey_time = ends_a[g_event[answered]] + rng.integers(3600, 3 * DAY, size=len(answered))
    counts["surveys"] = insert(
        Survey._meta.db_table,
        {
            "registration_id": reg_ids[answered].tolist(),
            "fit": g_fit[answered].tolist(),
            "comment": [regs["comment"][i] for i in answered.tolist()],
            "created_at": _ts(np.minimum(survey_time, now - 60)),
        },
    )

    # The activity log, as the services record it.
    act = Activity._meta.db_table
    common = {"source": NATIVE_SOURCE, "recorded_at": now_text, "object_kind": PLACE, "place_kind": PLACE}
    e_of_role = event_ids[r_event]
    activities = insert(
        act,
        {
            **common,
            "actor_id": mid[r_member].tolist(),
            "verb": [str(Verb.HOSTED) if r == RoleKind.HOST else str(Verb.SPOKE) for r in r_role],
            "target_member_id": None,
            "target_org_id": None,
            "object_id": e_of_role.tolist(),
            "place_id": e_of_role.tolist(),
            "origin_id": [
                f"event-{r}:{e}:{m}" for r, e, m in zip(r_role, e_of_role.tolist(), mid[r_member].tolist(), strict=True)
            ],
            "occurred_at": _ts(created_a[r_event]),
            "data": "{}",
        },
    )
    g_event_id = event_ids[g_event]
    intent_json = {i: json.dumps({"intent": i}) for i in set(regs["intent"])}
    activities += insert(
        act,
        {
            **common,
            "actor_id": mid[g_member].tolist(),
            "verb": str(Verb.REGISTERED),
            "target_member_id": None,
            "target_org_id": None,
            "object_id": g_event_id.tolist(),
            "place_id": g_event_id.tolist(),
            "origin_id": [f"event-registration:{r}" for r in reg_ids.tolist()],
            "occurred_at": _ts(g_created),
            "data": [intent_json[i] for i in regs["intent"]],
        },
    )
    # Buyer registrations draw a prospecting line from the event's commercial owner.
    g_owner = owner_a[g_event]
    pros = np.flatnonzero((g_intent == Intent.BUYER.value) & (g_owner >= 0))
    pros = pros[mid[g_owner[pros]] != mid[g_member[pros]]]
    activities += insert(
        act,
        {
            **common,
            "actor_id": mid[g_owner[pros]].tolist(),
            "verb": str(Verb.PROSPECTED),
            "target_member_id": mid[g_member[pros]].tolist(),
            "target_org_id": None,
            "object_id": g_event_id[pros].tolist(),
            "place_id": g_event_id[pros].tolist(),
            "origin_id": [f"event-prospect:{r}" for r in reg_ids[pros].tolist()],
            "occurred_at": _ts(g_created[pros]),
            "data": json.dumps({"intent": Intent.BUYER.value}),
        },
    )
    came = np.flatnonzero(g_attended >= 0)
    activities += insert(
        act,
        {
            **common,
            "actor_id": mid[g_member[came]].tolist(),
            "verb": str(Verb.ATTENDED),
            "target_member_id": None,
            "target_org_id": None,
            "object_id": g_event_id[came].tolist(),
            "place_id": g_event_id[came].tolist(),
            "origin_id": [
                f"event-attended:{e}:{m}"
                for e, m in zip(g_event_id[came].tolist(), mid[g_member[came]].tolist(), strict=True)
            ],
            "occurred_at": _ts(g_attended[came]),
            "data": "{}",
        },
    )
    counts["activities"] = activities
    counts["past"] = n_past
    counts["mismatched"] = int((~well[:n_past]).sum())
    return counts


def event_models() -> list[type[Any]]:
    """The tables this module writes with explicit ids (their sequences need a reset on PostgreSQL)."""
    return [Event, Registration]
