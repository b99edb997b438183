"""The demo conversations: spaces, memberships, threads, posts, reactions, mentions and follows.

Called by ``convenor.people.demo._build`` once the people are written, in the same
transaction and with the same technique: every choice is made with numpy over whole
arrays (who starts which thread where, who replies to whom, who reacts), rows are written
with multi-row ``executemany`` and explicit ids, and the activity log gets exactly the rows
the services would have recorded (``post:<id>``, ``mention:<post>:<member>``, ...).

Post bodies are Markdown assembled from the phrase banks in demo_phrases.py, one to three
paragraphs each. Each distinct paragraph is rendered once with ``markdown.render`` and the
post's HTML is the rendered paragraphs joined; @mentions are rendered with a placeholder
handle that is replaced afterwards. A test checks a sample against ``render(body)``.

The search index: on SQLite the trigger of migration 0002 that indexes each inserted post
is dropped while the demo's posts are written and put back right after, once one
``INSERT ... SELECT`` has indexed them with the same rows the trigger writes (all in the
build's transaction). On PostgreSQL the trigger fills each post's search column as usual.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.urls import reverse
from django.utils.text import slugify

from convenor.activity.models import NATIVE_SOURCE, Activity, Verb
from convenor.core.arrays import sorted_unique
from convenor.people.models import RelationshipKind
from convenor.spaces import demo_phrases as ph
from convenor.spaces import markdown
from convenor.spaces.models import (
    DEFAULT_CHARTER,
    Follow,
    Frame,
    Mention,
    Post,
    Reaction,
    ReactionKind,
    Space,
    SpaceMembership,
    Thread,
    Visibility,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

PLACE = "space"  # as convenor.spaces.services records it
DAY = 86_400
WINDOW_DAYS = 548  # eighteen months, like the people's activity
ACCOUNT_SPACES = 6  # private spaces for the largest customer accounts
THREADS_PER_MEMBER = 0.28  # with about 3.2 replies each: about 1.2 posts per member
MEAN_REPLIES = 3.2
MAX_REPLIES = 60
PITCH_REPLY_SHARE = 0.035
PITCH_THREAD_SHARE = 0.015
_PLACEHOLDER = "zzmentionzz"
_PLACEHOLDER_URL = "/zz-mention-url-zz/"

# Template groups, for the per-post category.
(
    C_QUESTION,
    C_DISCUSSION,
    C_OFFER,
    C_PARTNER,
    C_COMMERCIAL_Q,
    C_PITCH_THREAD,
    C_REPLY,
    C_CUSTOMER,
    C_STAFF,
    C_FOLLOW_UP,
    C_COMMERCIAL_REPLY,
    C_PITCH_REPLY,
) = range(12)


@dataclass
class People:
    """What the people part of the build knows, by member index (0..n-1)."""

    n: int
    member_id: IntArray
    member_org: IntArray  # organisation index per member
    member_kind: IntArray  # organisation kind index per member (0 is our company)
    org_id: IntArray
    org_kind: IntArray
    org_name: ObjArray
    org_start: IntArray
    org_size: IntArray
    pick_member: IntArray  # interest picks: member index, sorted
    pick_interest: IntArray  # ... and the interest's name index
    interest_names: list[str]
    rels: list[tuple[str, IntArray, IntArray, bool, bool, Any]]
    handles: ObjArray | None
    staff: list[int]  # member indexes of the staff logins: admin, community manager, sales, product
    member_url: str  # a member's profile URL with {} for the id (see member_url_pattern)
    now: int
    kinds: dict[str, int]  # "ours", "customer", "supplier", "partner", "competitor" -> kind index


Tick = Callable[[int], None]


def _writer(cursor: Any, tick: Tick) -> Callable[..., int]:
    """``write(table, columns, nulls=())``: lists vary per row, anything else is the same in
    every row; -1 in a column named in `nulls` stands for NULL."""
    from convenor.people.demo import Fixed, _insert

    def write(table: str, columns: dict[str, Any], nulls: tuple[str, ...] = ()) -> int:
        cols: dict[str, list[Any] | Fixed] = {}
        for name, value in columns.items():
            if isinstance(value, list):
                cols[name] = [None if v == -1 else v for v in value] if name in nulls else value
            else:
                cols[name] = Fixed(value)
        done = _insert(cursor, table, cols)
        tick(done)
        return done

    return write


def member_url_pattern() -> str:
    """A member's profile URL with ``{}`` where the id goes."""
    return reverse("web:member_detail", args=[0]).replace("/0/", "/{}/")


@functools.cache
def _paragraph(text: str) -> str:
    """A paragraph's HTML, rendered once however many posts use it."""
    return markdown.render(text, mention_urls={_PLACEHOLDER: _PLACEHOLDER_URL})


# Stand-ins for a template's fields: rendered once per template, then replaced by the real
# words. Terms and topics are plain words (letters, digits, inner spaces, hyphens and
# slashes), which Markdown passes through as they are; a test renders every template with
# every term both ways and compares.
_STAND_INS = {"term": "qqtermqq", "Term": "Qqtermqq", "topic": "qqtopicqq", "Topic": "Qqtopicqq"}


@functools.cache
def _template_html(template: str) -> str:
    return _paragraph(template.format(**_STAND_INS))


def _paragraph_html(template: str, interest: str, term: str) -> str:
    """The HTML of ``_paragraph(_fmt(template, interest, term))``, without rendering it again."""
    html = _template_html(template)
    if "qq" not in html:
        return html
    words = {"term": term, "Term": term[:1].upper() + term[1:], "topic": interest.lower(), "Topic": interest}
    for field, stand_in in _STAND_INS.items():
        html = html.replace(stand_in, words[field])
    return html


def _fmt(template: str, interest: str, term: str) -> str:
    topic = interest.lower()
    return template.format(term=term, Term=term[:1].upper() + term[1:], topic=topic, Topic=interest)


def _timestamps(seconds: IntArray) -> list[str]:
    from convenor.people.demo import _timestamps as ts

    return ts(seconds)


def _pick(rng: np.random.Generator, pools: list[IntArray], which: IntArray) -> IntArray:
    """One random member from pools[which[i]] for every i (-1 where the pool is empty)."""
    sizes = np.array([len(p) for p in pools], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    flat = np.concatenate([*pools, np.array([-1], dtype=np.int64)])
    size = sizes[which]
    idx = offsets[which] + (rng.random(len(which)) * np.maximum(size, 1)).astype(np.int64)
    out: IntArray = np.where(size > 0, flat[np.minimum(idx, len(flat) - 1)], -1)
    return out


def build_conversations(cursor: Any, people: People, seed: int, now_text: str, tick: Tick) -> dict[str, int]:
    """Plan and write the conversations; returns row counts by table and a few totals."""
    from convenor.people.demo import _max_id

    insert = _writer(cursor, tick)

    def ids(table: str) -> int:
        return _max_id(cursor, table) + 1

    rng = np.random.default_rng([seed, 3])
    n, now = people.n, people.now
    kind = people.member_kind
    K = people.kinds
    employees = np.flatnonzero(kind == K["ours"])
    is_customer = kind == K["customer"]
    sellers = np.flatnonzero(np.isin(kind, [K["supplier"], K["partner"], K["competitor"]]))
    if not len(sellers):
        sellers = employees

    # --- spaces -------------------------------------------------------------------------------
    specs = [(*s, Frame.COMMUNITY) for s in ph.COMMUNITY_SPACES] + [
        (*s, Frame.COMMERCIAL) for s in ph.COMMERCIAL_SPACES
    ]
    interest_space = np.full(len(people.interest_names), 0, dtype=np.int64)
    by_name = {name: i for i, name in enumerate(people.interest_names)}
    for s, (*_, interests, _frame) in enumerate(specs):
        for name in interests:
            if name in by_name:
                interest_space[by_name[name]] = s
    n_topic = len(specs)
    customers_orgs = np.flatnonzero(people.org_kind == K["customer"])
    biggest = customers_orgs[np.argsort(-people.org_size[customers_orgs], kind="stable")][:ACCOUNT_SPACES]
    acct_org = np.r_[np.full(n_topic, -1), biggest].astype(np.int64)
    n_spaces = len(acct_org)
    space_id = ids(Space._meta.db_table) + np.arange(n_spaces, dtype=np.int64)
    is_account = acct_org >= 0
    frame = np.array([f for *_, f in specs] + [Frame.COMMUNITY] * len(biggest), dtype=object)
    is_commercial = frame == Frame.COMMERCIAL
    open_community = ~is_account & ~is_commercial
    offers_space = n_topic - 2  # "Offers & renewals"
    market_space = n_topic - 1  # "Partner marketplace"
    org_space = np.full(len(people.org_kind), -1, dtype=np.int64)
    org_space[biggest] = n_topic + np.arange(len(biggest))
    space_org_of = np.where(is_account, acct_org, -1)

    cm, sales = people.staff[1], people.staff[2]
    # The employees named for each account space: our sales login and two others; they moderate it.
    named: list[IntArray] = []
    for _ in biggest:
        others = rng.choice(employees, size=min(2, len(employees)), replace=False)
        named.append(sorted_unique(np.r_[sales, others].astype(np.int64)))

    # Who reads (and so may post in, be mentioned in or react in) each space, by interest.
    pm, pi = people.pick_member, people.pick_interest
    pick_space = interest_space[pi]
    pools: list[IntArray] = []
    for s in range(n_spaces):
        if is_account[s]:
            o = int(acct_org[s])
            first, size = int(people.org_start[o]), int(people.org_size[o])
            pools.append(np.r_[np.arange(first, first + size), named[s - n_topic]].astype(np.int64))
        else:
            pools.append(sorted_unique(np.r_[pm[pick_space == s], employees].astype(np.int64)))
    customer_pools = [p[is_customer[p]] for p in pools]
    staff_pools = [named[s - n_topic] if is_account[s] else employees for s in range(n_spaces)]

    # The relationship graph between people, both directions, as CSR.
    base = int(people.member_id.min())
    index_of = np.empty(n, dtype=np.int64)
    index_of[people.member_id - base] = np.arange(n, dtype=np.int64)
    src_l, dst_l = [], []
    people_kinds = {RelationshipKind.REPORTS_TO, RelationshipKind.COLLEAGUE, RelationshipKind.KNOWS}
    for rkind, a, b, a_org, b_org, _ in people.rels:
        if rkind in people_kinds and not a_org and not b_org:
            ia, ib = index_of[a - base], index_of[b - base]
            src_l += [ia, ib]
            dst_l += [ib, ia]
    src = np.concatenate(src_l) if src_l else np.zeros(0, dtype=np.int64)
    dst = np.concatenate(dst_l) if dst_l else np.zeros(0, dtype=np.int64)
    order = np.argsort(src, kind="stable")
    nb = dst[order]
    deg = np.bincount(src, minlength=n).astype(np.int64)
    indptr = np.r_[0, np.cumsum(deg)].astype(np.int64)

    def neighbour(who: IntArray) -> IntArray:
        d = deg[who]
        j = indptr[who] + (rng.random(len(who)) * np.maximum(d, 1)).astype(np.int64)
        out: IntArray = np.where(d > 0, nb[np.minimum(j, max(len(nb) - 1, 0))] if len(nb) else -1, -1)
        return out

    def readable(who: IntArray, space: IntArray) -> BoolArray:
        org = space_org_of[space]
        ok: BoolArray = (who >= 0) & ((org < 0) | (people.member_org[np.maximum(who, 0)] == org))
        return ok

    # --- threads ------------------------------------------------------------------------------
    T = max(40, int(n * THREADS_PER_MEMBER))
    weight = rng.lognormal(0.0, 1.0, n)
    weight[kind == K["competitor"]] *= 0.3
    author = rng.choice(n, size=T, p=weight / weight.sum())
    p_start = np.searchsorted(pm, np.arange(n))
    p_count = np.bincount(pm, minlength=n)
    pick = p_start[author] + (rng.random(T) * np.maximum(p_count[author], 1)).astype(np.int64)
    interest = pi[np.minimum(pick, len(pi) - 1)]
    space = interest_space[interest]
    u = rng.random(T)
    a_acct = org_space[people.member_org[author]]
    space = np.where((a_acct >= 0) & (u < 0.35), a_acct, space)
    seller_author = np.isin(kind[author], [K["supplier"], K["partner"]])
    space = np.where(seller_author & (u > 0.7), market_space, space)
    staff_author = kind[author] == K["ours"]
    space = np.where(staff_author & (u > 0.88), offers_space, space)
    # Pitches opening a thread in an open community space, by someone selling.
    pitch_thread = open_community[space] & (rng.random(T) < PITCH_THREAD_SHARE)
    author = np.where(pitch_thread, sellers[rng.integers(0, len(sellers), T)], author)
    # Topics follow the space; account spaces talk about anything their people care about.
    space_interests = [np.flatnonzero(interest_space == s) for s in range(n_topic)]
    off_topic = ~is_account[space] & (interest_space[interest] != space)
    if off_topic.any():
        fix = np.flatnonzero(off_topic)
        interest[fix] = _pick(rng, [*space_interests, *[np.arange(1)] * len(biggest)], space[fix])
    question = rng.random(T) < 0.55
    cat = np.where(question, C_QUESTION, C_DISCUSSION)
    cat = np.where(is_commercial[space], C_COMMERCIAL_Q, cat)
    cat = np.where(is_commercial[space] & staff_author, C_OFFER, cat)
    cat = np.where(is_commercial[space] & seller_author, C_PARTNER, cat)
    cat = np.where(pitch_thread, C_PITCH_THREAD, cat)
    question = np.isin(cat, [C_QUESTION, C_COMMERCIAL_Q])
    replies = np.minimum(MAX_REPLIES, rng.exponential(MEAN_REPLIES, T).astype(np.int64))
    # Threads start over eighteen months, more of them recently; posts follow hours apart.
    start: IntArray = now - (WINDOW_DAYS * DAY * rng.random(T) ** 1.3).astype(np.int64) - 3600
    order_t = np.argsort(start, kind="stable")  # ids in the order threads were started
    author, interest, space, cat, replies, start = (a[order_t] for a in (author, interest, space, cat, replies, start))
    question = question[order_t]
    pitch_thread = cat == C_PITCH_THREAD
    term = rng.integers(0, 1 << 30, T)

    # --- posts ----------------------------------------------------------------------------------
    per = replies + 1
    P = int(per.sum())
    tstart = np.r_[0, np.cumsum(per)[:-1]].astype(np.int64)
    p_thread = np.repeat(np.arange(T), per)
    p_pos = np.arange(P) - tstart[p_thread]
    p_author = np.full(P, -1, dtype=np.int64)
    p_author[tstart] = author
    p_parent = np.full(P, -1, dtype=np.int64)  # a post index, or -1 for a reply to the thread
    p_replied = np.full(P, -1, dtype=np.int64)  # the post replied to (the opening post if none)
    p_cat = np.full(P, C_REPLY, dtype=np.int64)
    p_cat[tstart] = cat
    t_is_customer = is_customer[author]
    for k in range(1, int(replies.max(initial=0)) + 1):
        act = np.flatnonzero(replies >= k)
        m = len(act)
        pos = tstart[act] + k
        earlier = tstart[act] + 1 + (rng.random(m) * max(k - 1, 1)).astype(np.int64)
        to = np.where((k == 1) | (rng.random(m) < 0.55), tstart[act], earlier)
        p_parent[pos] = np.where(to == tstart[act], -1, to)
        p_replied[pos] = to
        target = p_author[to]
        sp = space[act]
        pool = _pick(rng, pools, sp)
        rel = neighbour(target)
        rel = np.where(readable(rel, sp), rel, pool)
        staff = _pick(rng, staff_pools, sp)
        cust = _pick(rng, customer_pools, sp)
        asker = author[act]
        x = rng.random(m)
        p_staff = np.where(question[act], 0.26, 0.1)
        who = np.where(x < p_staff, staff, pool)
        who = np.where((x >= p_staff) & (x < p_staff + 0.4), rel, who)
        follow_up = (x >= p_staff + 0.4) & (x < p_staff + 0.5) & (k >= 2) & (target != asker)
        who = np.where(follow_up, asker, who)
        c_ans = (x >= p_staff + 0.5) & (x < p_staff + 0.78) & t_is_customer[act] & (cust >= 0)
        who = np.where(c_ans, cust, who)
        again = (who == target) | (who < 0)
        who = np.where(again, _pick(rng, pools, sp), who)
        pitch = open_community[sp] & (rng.random(m) < PITCH_REPLY_SHARE)
        who = np.where(pitch, sellers[rng.integers(0, len(sellers), m)], who)
        p_author[pos] = who
        c = np.where(is_commercial[sp], C_COMMERCIAL_REPLY, C_REPLY)
        c = np.where((kind[who] == K["ours"]) & ~is_commercial[sp], C_STAFF, c)
        c = np.where(who == asker, C_FOLLOW_UP, c)
        cross = is_customer[who] & t_is_customer[act] & (people.member_org[who] != people.member_org[asker])
        c = np.where(cross & (c == C_REPLY) & (rng.random(m) < 0.5), C_CUSTOMER, c)
        p_cat[pos] = np.where(pitch, C_PITCH_REPLY, c)
    p_space = space[p_thread]
    p_staff = kind[p_author] == K["ours"]
    # Times: each reply a few hours after the one before; nothing in the future.
    gap = np.maximum(60, rng.exponential(5 * 3600, P)).astype(np.int64)
    gap[tstart] = 0
    run = np.cumsum(gap)
    offset = run - run[tstart][p_thread]
    last = offset[tstart + replies]
    start = np.minimum(start, now - 120 - last)
    p_time = start[p_thread] + offset
    thread_ids = ids(Thread._meta.db_table) + np.arange(T, dtype=np.int64)
    post_ids = ids(Post._meta.db_table) + np.arange(P, dtype=np.int64)

    # Accepted answers: more than half of the answered questions, never the asker's own post.
    cand = np.flatnonzero(question & (replies > 0) & (rng.random(T) < 0.55))
    acc_post = tstart[cand] + 1 + (rng.random(len(cand)) * replies[cand]).astype(np.int64)
    keep = p_author[acc_post] != author[cand]
    acc_thread, acc_post = cand[keep], acc_post[keep]
    accepted = np.zeros(P, dtype=bool)
    accepted[acc_post] = True

    # Mentions: a few posts name someone the author knows (or a reader of the space).
    mentioning = np.zeros(P, dtype=bool)
    m_post = np.zeros(0, dtype=np.int64)
    m_member = np.zeros(0, dtype=np.int64)
    if people.handles is not None:
        cand = np.flatnonzero((rng.random(P) < 0.07) & ~np.isin(p_cat, [C_PITCH_REPLY, C_PITCH_THREAD]))
        who = neighbour(p_author[cand])
        who = np.where(readable(who, p_space[cand]), who, _pick(rng, pools, p_space[cand]))
        keep = (who >= 0) & (who != p_author[cand])
        m_post, m_member = cand[keep], who[keep]
        mentioning[m_post] = True
    mention_of = np.full(P, -1, dtype=np.int64)
    mention_of[m_post] = m_member

    # Reactions: mostly from people who know the author, more on answers and staff posts.
    lam = 0.45 + 1.6 * accepted + 0.3 * p_staff
    count = np.minimum(12, rng.poisson(lam))
    r_post = np.repeat(np.arange(P), count)
    r_who = neighbour(p_author[r_post])
    r_who = np.where(
        readable(r_who, p_space[r_post]) & (rng.random(len(r_post)) < 0.5), r_who, _pick(rng, pools, p_space[r_post])
    )
    r_kind = rng.choice(4, size=len(r_post), p=[0.55, 0.2, 0.15, 0.1])
    keep = (r_who >= 0) & (r_who != p_author[r_post])
    key = sorted_unique((r_post[keep] * n + r_who[keep]) * 4 + r_kind[keep])
    r_post, rest = np.divmod(key, n * 4)
    r_who, r_kind = np.divmod(rest, 4)
    r_time = np.minimum(
        now - 60, p_time[r_post] + np.maximum(60, rng.exponential(8 * 3600, len(r_post)).astype(np.int64))
    )
    p_reactions = np.bincount(r_post, minlength=P)
    t_reactions = np.bincount(p_thread, weights=p_reactions, minlength=T).astype(np.int64)
    t_staff = np.bincount(p_thread, weights=p_staff & (p_pos > 0), minlength=T).astype(np.int64)
    # The most answered thread of each open community space is pinned.
    pinned = np.zeros(T, dtype=bool)
    for s_ix in np.flatnonzero(open_community).tolist():
        in_s = np.flatnonzero(space == s_ix)
        if len(in_s):
            pinned[in_s[np.argmax(replies[in_s])]] = True
    needs_staff = question & (rng.random(T) < 0.1)

    # Memberships: everyone who posted in a space, a share of its readers, an account's people.
    space_created = now - (WINDOW_DAYS + 12) * DAY
    moderators = {(s_ix, cm) for s_ix in np.flatnonzero(open_community).tolist()}
    moderators |= {(s_ix, sales) for s_ix in np.flatnonzero(is_commercial).tolist()}
    moderators |= {(n_topic + i, int(e)) for i, es in enumerate(named) for e in es.tolist()}
    mod_pairs = np.array(sorted(moderators), dtype=np.int64).reshape(-1, 2)
    mem_space = [p_space, mod_pairs[:, 0], *[np.full(len(p), s) for s, p in enumerate(pools) if is_account[s]]]
    mem_who = [p_author, mod_pairs[:, 1], *[p for s, p in enumerate(pools) if is_account[s]]]
    for s_ix in np.flatnonzero(~is_account).tolist():
        lurkers = pools[s_ix][rng.random(len(pools[s_ix])) < 0.12]
        mem_space.append(np.full(len(lurkers), s_ix))
        mem_who.append(lurkers)
    first_post = np.full(n_spaces * n, np.iinfo(np.int64).max)
    np.minimum.at(first_post, p_space * n + p_author, p_time)
    mkey = sorted_unique(np.concatenate(mem_space) * n + np.concatenate(mem_who))
    ms, mw = np.divmod(mkey, n)
    joined = space_created + 3600 + (rng.random(len(mkey)) * (WINDOW_DAYS * DAY)).astype(np.int64)
    joined = np.minimum(joined, first_post[mkey] - rng.integers(3600, 3 * DAY, len(mkey)))
    joined = np.maximum(joined, space_created + 60)
    mod_key = mod_pairs[:, 0] * n + mod_pairs[:, 1]
    role = np.where(np.isin(mkey, mod_key), "moderator", "member").astype(object)

    # Thread follows: the service follows every author's thread for them.
    fkey = sorted_unique(p_thread * n + p_author)
    f_thread, f_member = np.divmod(fkey, n)

    # --- writing --------------------------------------------------------------------------------
    mid = people.member_id
    counts: dict[str, int] = {}
    names = [s[0] for s in specs] + [f"{people.org_name[o]} private space" for o in biggest]
    slugs = [s[1] for s in specs] + [slugify(name)[:100] for name in names[n_topic:]]
    descriptions = [s[3] for s in specs] + [
        f"A private space for {people.org_name[o]}'s people and the employees who work with them." for o in biggest
    ]
    visibility = [s[2] for s in specs] + [Visibility.ACCOUNT] * len(biggest)
    counts["spaces"] = insert(
        Space._meta.db_table,
        {
            "id": space_id.tolist(),
            "name": names,
            "slug": slugs,
            "description": descriptions,
            "frame": [str(f) for f in frame.tolist()],
            "visibility": [str(v) for v in visibility],
            "organization_id": [int(people.org_id[o]) if o >= 0 else None for o in acct_org.tolist()],
            "group_id": None,
            "charter": [DEFAULT_CHARTER if f == Frame.COMMUNITY else "" for f in frame.tolist()],
            "created_by_id": [int(mid[cm])] * n_spaces,
            "created_at": _timestamps(np.full(n_spaces, space_created, dtype=np.int64)),
            "archived_at": None,
            "thread_count": np.bincount(space, minlength=n_spaces).tolist(),
            "post_count": np.bincount(p_space, minlength=n_spaces).tolist(),
        },
    )
    joined_text = _timestamps(joined)
    counts["memberships"] = insert(
        SpaceMembership._meta.db_table,
        {
            "space_id": space_id[ms].tolist(),
            "member_id": mid[mw].tolist(),
            "role": role.tolist(),
            "state": "active",
            "invited_by_id": None,
            "created_at": joined_text,
            "joined_at": joined_text,
            "left_at": None,
        },
    )
    t_time = p_time[tstart]
    titles = _titles(cat, interest, term, people.interest_names)
    counts["threads"] = insert(
        Thread._meta.db_table,
        {
            "id": thread_ids.tolist(),
            "space_id": space_id[space].tolist(),
            "title": titles,
            "kind": np.where(question, "question", "discussion").astype(object).tolist(),
            "author_id": mid[author].tolist(),
            "created_at": _timestamps(t_time),
            "last_post_at": _timestamps(p_time[tstart + replies]),
            "pinned": pinned.tolist(),
            "locked": False,
            "needs_staff": needs_staff.tolist(),
            "accepted_post_id": None,  # set below, once the posts are there
            "reply_count": replies.tolist(),
            "staff_reply_count": t_staff.tolist(),
            "reaction_count": t_reactions.tolist(),
        },
    )
    bodies, htmls, texts = _bodies(rng, p_cat, interest[p_thread], term[p_thread], mention_of, people)
    p_time_text = _timestamps(p_time)
    fts_trigger = _pause_fts(cursor)
    counts["posts"] = insert(
        Post._meta.db_table,
        {
            "id": post_ids.tolist(),
            "thread_id": thread_ids[p_thread].tolist(),
            "author_id": mid[p_author].tolist(),
            "parent_id": np.where(p_parent >= 0, post_ids[np.maximum(p_parent, 0)], -1).astype(object).tolist(),
            "body": bodies,
            "html": htmls,
            "text": texts,
            "by_staff": p_staff.tolist(),
            "created_at": p_time_text,
            "edited_at": None,
            "reaction_count": p_reactions.tolist(),
        },
        nulls=("parent_id",),
    )
    _resume_fts(cursor, fts_trigger, int(post_ids[0]) if P else 0)
    kinds = np.array([str(k) for k in ReactionKind.values], dtype=object)
    r_time_text = _timestamps(r_time)
    counts["reactions"] = insert(
        Reaction._meta.db_table,
        {
            "post_id": post_ids[r_post].tolist(),
            "member_id": mid[r_who].tolist(),
            "kind": kinds[r_kind].tolist(),
            "created_at": r_time_text,
        },
    )
    counts["mentions"] = insert(
        Mention._meta.db_table, {"post_id": post_ids[m_post].tolist(), "member_id": mid[m_member].tolist()}
    )
    counts["follows"] = insert(
        Follow._meta.db_table,
        {
            "member_id": np.r_[mid[mw], mid[f_member]].tolist(),
            "space_id": np.r_[space_id[ms], np.full(len(fkey), -1)].astype(object).tolist(),
            "thread_id": np.r_[np.full(len(mkey), -1), thread_ids[f_thread]].astype(object).tolist(),
            "created_at": joined_text + [p_time_text[i] for i in tstart[f_thread].tolist()],
        },
        nulls=("space_id", "thread_id"),
    )

    # The activity log, as the services record it.
    act_table = Activity._meta.db_table
    common = {
        "target_org_id": None,
        "place_kind": PLACE,
        "source": NATIVE_SOURCE,
        "recorded_at": now_text,
    }
    opening = tstart
    activities = insert(
        act_table,
        {
            **common,
            "actor_id": mid[author].tolist(),
            "verb": str(Verb.POSTED),
            "target_member_id": None,
            "object_kind": "post",
            "object_id": post_ids[opening].tolist(),
            "place_id": space_id[space].tolist(),
            "origin_id": [f"post:{i}" for i in post_ids[opening].tolist()],
            "occurred_at": [p_time_text[i] for i in opening.tolist()],
            "data": "{}",
        },
    )
    rp = np.flatnonzero(p_pos > 0)
    target = p_author[p_replied[rp]]
    activities += insert(
        act_table,
        {
            **common,
            "actor_id": mid[p_author[rp]].tolist(),
            "verb": str(Verb.REPLIED),
            "target_member_id": np.where(target != p_author[rp], mid[target], -1).astype(object).tolist(),
            "object_kind": "post",
            "object_id": post_ids[rp].tolist(),
            "place_id": space_id[p_space[rp]].tolist(),
            "origin_id": [f"post:{i}" for i in post_ids[rp].tolist()],
            "occurred_at": [p_time_text[i] for i in rp.tolist()],
            # What json.dumps({"thread": t, "parent": p}) writes, without its per-call cost.
            "data": [
                f'{{"thread": {t}, "parent": {p}}}'
                for t, p in zip(thread_ids[p_thread[rp]].tolist(), post_ids[p_replied[rp]].tolist(), strict=True)
            ],
        },
        nulls=("target_member_id",),
    )
    activities += insert(
        act_table,
        {
            **common,
            "actor_id": mid[p_author[m_post]].tolist(),
            "verb": str(Verb.MENTIONED),
            "target_member_id": mid[m_member].tolist(),
            "object_kind": "post",
            "object_id": post_ids[m_post].tolist(),
            "place_id": space_id[p_space[m_post]].tolist(),
            "origin_id": [
                f"mention:{p}:{m}" for p, m in zip(post_ids[m_post].tolist(), mid[m_member].tolist(), strict=True)
            ],
            "occurred_at": [p_time_text[i] for i in m_post.tolist()],
            "data": "{}",
        },
    )
    r_kinds = kinds[r_kind].tolist()
    kind_json = {k: json.dumps({"kind": k}) for k in set(r_kinds)}
    activities += insert(
        act_table,
        {
            **common,
            "actor_id": mid[r_who].tolist(),
            "verb": str(Verb.REACTED),
            "target_member_id": mid[p_author[r_post]].tolist(),
            "object_kind": "post",
            "object_id": post_ids[r_post].tolist(),
            "place_id": space_id[p_space[r_post]].tolist(),
            "origin_id": [
                f"reaction:{p}:{m}:{k}"
                for p, m, k in zip(post_ids[r_post].tolist(), mid[r_who].tolist(), r_kinds, strict=True)
            ],
            "occurred_at": r_time_text,
            "data": [kind_json[k] for k in r_kinds],
        },
    )
    acc_time = np.minimum(now - 30, p_time[acc_post] + rng.integers(600, 2 * DAY, len(acc_post)))
    activities += insert(
        act_table,
        {
            **common,
            "actor_id": mid[author[acc_thread]].tolist(),
            "verb": str(Verb.ANSWER_ACCEPTED),
            "target_member_id": mid[p_author[acc_post]].tolist(),
            "object_kind": "post",
            "object_id": post_ids[acc_post].tolist(),
            "place_id": space_id[space[acc_thread]].tolist(),
            "origin_id": [
                f"accepted:{t}:{p}"
                for t, p in zip(thread_ids[acc_thread].tolist(), post_ids[acc_post].tolist(), strict=True)
            ],
            "occurred_at": _timestamps(acc_time),
            "data": "{}",
        },
    )
    stamp = np.strings.replace(
        np.strings.replace(
            np.strings.replace(np.datetime_as_string(joined.astype("datetime64[s]"), unit="s"), "-", ""), ":", ""
        ),
        "T",
        "",
    )
    activities += insert(
        act_table,
        {
            **common,
            "actor_id": mid[mw].tolist(),
            "verb": str(Verb.JOINED_SPACE),
            "target_member_id": None,
            "object_kind": "",
            "object_id": None,
            "place_id": space_id[ms].tolist(),
            "origin_id": [
                f"space-join:{s}:{m}:{t}000000"
                for s, m, t in zip(space_id[ms].tolist(), mid[mw].tolist(), stamp.tolist(), strict=True)
            ],
            "occurred_at": joined_text,
            "data": "{}",
        },
    )
    counts["activities"] = activities
    if len(acc_thread):
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Thread._meta.db_table)
            cursor.executemany(
                f"UPDATE {table} SET accepted_post_id = %s WHERE id = %s",  # noqa: S608  # a model's own table
                list(zip(post_ids[acc_post].tolist(), thread_ids[acc_thread].tolist(), strict=True)),
            )
    counts["accepted"] = len(acc_thread)
    counts["pitches"] = int(np.isin(p_cat, [C_PITCH_REPLY, C_PITCH_THREAD]).sum())
    return counts


_FTS_TRIGGER = "spaces_post_fts_ai"


def _pause_fts(cursor: Any) -> str | None:
    """On SQLite, drop the trigger that indexes each inserted post (migration 0002); returns
    the statement that recreates it as it was. None elsewhere (PostgreSQL fills its search
    column in a BEFORE INSERT trigger, which stays)."""
    if connection.vendor != "sqlite":
        return None
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [_FTS_TRIGGER])
    row = cursor.fetchone()
    if row is None:
        return None
    cursor.execute(f"DROP TRIGGER {_FTS_TRIGGER}")
    sql: str = row[0]
    return sql


def _resume_fts(cursor: Any, trigger_sql: str | None, first_post: int) -> None:
    """Index the demo's posts in one statement, with exactly the rows the trigger would have
    written (the post's id, its thread's title, its plain text), then put the trigger back.

    The same transaction as the inserts: if anything fails, the trigger is back as it was.
    One INSERT ... SELECT lets FTS5 tokenise in one pass instead of firing a trigger (and a
    title lookup) per post.
    """
    if trigger_sql is None:
        return
    started = time.perf_counter()
    cursor.execute(
        "INSERT INTO spaces_post_fts(rowid, title, body) "
        "SELECT p.id, t.title, p.text FROM spaces_post p JOIN spaces_thread t ON t.id = p.thread_id "
        "WHERE p.id >= %s ORDER BY p.id",
        [first_post],
    )
    cursor.execute(trigger_sql)
    from convenor.people.demo import STEP_SECONDS

    STEP_SECONDS["spaces_post_fts"] = STEP_SECONDS.get("spaces_post_fts", 0.0) + time.perf_counter() - started


def _titles(cat: IntArray, interest: IntArray, term: IntArray, interest_names: list[str]) -> list[str]:
    banks = {
        C_QUESTION: ph.QUESTION_TITLES,
        C_DISCUSSION: ph.DISCUSSION_TITLES,
        C_OFFER: ph.OFFER_TITLES,
        C_PARTNER: ph.PARTNER_TITLES,
        C_COMMERCIAL_Q: ph.COMMERCIAL_QUESTIONS,
        C_PITCH_THREAD: ph.PITCH_TITLES,
    }
    out = []
    for c, i, t in zip(cat.tolist(), interest.tolist(), term.tolist(), strict=True):
        name = interest_names[i]
        terms = ph.TERMS[name]
        bank = banks[c]
        out.append(_fmt(bank[(t >> 8) % len(bank)], name, terms[t % len(terms)]))
    return out


_BODY_BANKS: dict[int, list[list[str]]] = {
    C_QUESTION: [ph.QUESTION_INTROS, ph.DETAILS, ph.QUESTION_CLOSINGS],
    C_DISCUSSION: [ph.DISCUSSION_INTROS, ph.DETAILS, ph.DISCUSSION_CLOSINGS],
    C_OFFER: [ph.OFFER_BODIES[:2], ph.OFFER_BODIES[2:]],
    C_PARTNER: [ph.OFFER_BODIES[1:2], ph.OFFER_BODIES[2:]],
    C_COMMERCIAL_Q: [["We are planning our renewal and want to get the budget right."], ph.COMMERCIAL_QUESTIONS],
    C_PITCH_THREAD: [ph.PITCH_LOUD],
    C_REPLY: [ph.REPLIES],
    C_CUSTOMER: [ph.CUSTOMER_ANSWERS],
    C_STAFF: [ph.STAFF_ANSWERS],
    C_FOLLOW_UP: [ph.FOLLOW_UPS],
    C_COMMERCIAL_REPLY: [ph.COMMERCIAL_REPLIES],
    C_PITCH_REPLY: [ph.PITCH_SUBTLE + ph.PITCH_LOUD],
}


def _bodies(
    rng: np.random.Generator, cat: IntArray, interest: IntArray, term: IntArray, mention_of: IntArray, people: People
) -> tuple[list[str], list[str], list[str]]:
    """Markdown, HTML and plain text for every post (see the module docstring).

    A post's text is fixed by a few small numbers: its template group, the template picked
    from each bank, the term it talks about and the mention line, if any. Those are worked
    out with numpy for every post; each distinct combination is then assembled once, and
    only the @handle of a mentioning post is filled in per post.
    """
    url = people.member_url
    P = len(cat)
    choice = rng.integers(0, 1 << 30, (P, 3))
    mention_t = rng.integers(0, len(ph.MENTIONS), P)
    # The question's details paragraph is there two times in three.
    skip_detail = rng.random(P) < 0.33

    # Every topic's terms in one list: the term of a post is an index into it.
    names = people.interest_names
    term_lists = [ph.TERMS[name] for name in names]
    t_count = np.array([len(t) for t in term_lists], dtype=np.int64)
    t_offset = np.r_[0, np.cumsum(t_count)[:-1]].astype(np.int64)
    flat_terms = [t for ts in term_lists for t in ts]
    flat_topic = np.repeat(np.arange(len(names)), t_count)
    # Replies talk about the thread's term most of the time, another of the topic's otherwise.
    c2 = choice[:, 2]
    which = t_offset[interest] + (term + (c2 % 3 == 0) * (c2 >> 4)) % t_count[interest]

    # The template picked from each bank (-1: no such bank, or the details left out).
    n_banks = np.array([len(_BODY_BANKS[c]) for c in range(len(_BODY_BANKS))], dtype=np.int64)
    pick = np.full((P, 3), -1, dtype=np.int64)
    for j in range(3):
        size = np.array([len(b[j]) if j < len(b) else 1 for b in (_BODY_BANKS[c] for c in range(len(_BODY_BANKS)))])
        pick[:, j] = np.where(j < n_banks[cat], choice[:, j] % size[cat], -1)
    pick[:, 1] = np.where((n_banks[cat] == 3) & skip_detail, -1, pick[:, 1])
    mention = np.where(mention_of >= 0, mention_t, -1)

    # One number per distinct text: (group, three picks, term, mention line), mixed radix.
    assert max(len(b) for banks in _BODY_BANKS.values() for b in banks) <= 13
    key = cat.astype(np.int64)
    for part, radix in ((pick[:, 0], 13), (pick[:, 1], 13), (pick[:, 2], 13), (which, len(flat_terms)), (mention, 4)):
        key = key * (radix + 1) + part + 1
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)

    u_body: list[str] = []
    u_html: list[str] = []
    u_text: list[str] = []
    for i in first.tolist():
        c, w = int(cat[i]), int(which[i])
        name, tt = names[int(flat_topic[w])], flat_terms[w]
        paras = [
            (_fmt(bank[p], name, tt), _paragraph_html(bank[p], name, tt))
            for bank, p in zip(_BODY_BANKS[c], pick[i].tolist(), strict=False)
            if p >= 0
        ]
        if mention[i] >= 0:
            line = ph.MENTIONS[int(mention[i])].format(handle=_PLACEHOLDER)
            paras.append((line, _paragraph(line)))
        html = "".join(h for _, h in paras)
        u_body.append("\n\n".join(b for b, _ in paras))
        u_html.append(html)
        u_text.append(markdown.plain_text(html))
    bodies: list[str] = np.array(u_body, dtype=object)[inverse].tolist()
    htmls: list[str] = np.array(u_html, dtype=object)[inverse].tolist()
    texts: list[str] = np.array(u_text, dtype=object)[inverse].tolist()

    # The mentioned member's @handle and profile link, post by post (a few percent of them).
    mentioning = np.flatnonzero(mention_of >= 0)
    if len(mentioning):
        handles = people.handles
        assert handles is not None
        mid = people.member_id
        link = "@" + _PLACEHOLDER
        for i, m in zip(mentioning.tolist(), mention_of[mentioning].tolist(), strict=True):
            handle = str(handles[m])
            bodies[i] = bodies[i].replace(_PLACEHOLDER, handle)
            htmls[i] = htmls[i].replace(_PLACEHOLDER_URL, url.format(int(mid[m]))).replace(link, "@" + handle)
            texts[i] = texts[i].replace(_PLACEHOLDER, handle)
    return bodies, htmls, texts
