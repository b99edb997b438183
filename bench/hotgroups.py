"""Hot groups at scale: are suggested people truly interested, does every suggestion keep
every rule, and how long do suggesting and interest profiling take?

Generates a community in a fresh SQLite database (default 100,000 members at 460
organisations, 20 planted interest cohorts, 3 posts each, 60 pairs of competing
customers plus competitor organisations, 5% opted out of contact, 10% opted in to meeting
competitors, replies mostly within a cohort and some across, so the map has brokers), then:

- builds the map (convenor.graph.services.build_map) and the interest profiles
  (``profile_refresh``: fit on a sample, project every post, rebuild every profile);
- times ``suggestions_create(size=10, limit=20)`` across every topic (target: 30 s at
  100,000 members);
- ``interest_precision``: the share of suggested people whose planted interest is the
  suggestion's topic (the cohort whose planted words lead the topic's top terms); target 0.9;
- ``constraint_satisfaction``: the share of suggestions that keep every rule, checked here
  from the database, independently of the code that built them (target exactly 1.0), plus a
  second run that must not propose anyone again for the same topic (the cool-down);
- ``profiling_1m``: fitting and projecting 1,000,000 generated posts in memory (the part of
  profiling that grows with the posts), with its rate, next to the database run's rate.
  ``--db-posts N`` profiles N posts from the database instead of the 3 per member written:
  the written posts are copied (as replies in their threads, same authors and texts) after
  the map is built, so only profiling sees them.

The floor, measured in the same run: reading every member's id and role once with one SQL
query; ``suggest_ratio`` is the suggest time over that floor.

    python bench/hotgroups.py                      # 100,000 members, 1M posts profiled
    python bench/hotgroups.py --members 5000 --profile-posts 100000   # a quick look
    python bench/hotgroups.py --members 20000 --db-posts 1000000       # profiling 1M posts from the database
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COHORTS = 20
VOCAB_PER_COHORT = 12
NOISE = [
    "meeting",
    "weekend",
    "coffee",
    "office",
    "update",
    "monday",
    "plan",
    "thanks",
    "team",
    "call",
    "notes",
    "lunch",
]


def _django(data: Path) -> None:
    os.environ["CONVENOR_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convenor.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _vocab(rng: np.random.Generator) -> list[list[str]]:
    """Distinct made-up terms per cohort (syllables), so topics can be told apart."""
    syll = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "su", "do", "ga", "fi", "be", "xo"]
    seen: set[str] = set()
    out: list[list[str]] = []
    for _ in range(COHORTS):
        words: list[str] = []
        while len(words) < VOCAB_PER_COHORT:
            w = "".join(rng.choice(syll, size=3)) + str(rng.choice(["ing", "ops", "er", "ics"]))
            if w not in seen:
                seen.add(w)
                words.append(w)
        out.append(words)
    return out


def _text(rng: np.random.Generator, words: list[str], n: int = 8) -> str:
    topical = rng.choice(words, size=n - 2)
    noise = rng.choice(NOISE, size=2)
    return " ".join([*topical.tolist(), *noise.tolist()])


def generate(members: int, seed: int) -> dict[str, Any]:
    """Write the community; returns the planted truth."""
    from django.db import transaction
    from django.utils import timezone

    from convenor.activity.models import Activity, Verb
    from convenor.people.models import (
        Affiliation,
        Interest,
        Member,
        Organization,
        OrgKind,
        Relationship,
        RelationshipKind,
        Role,
    )
    from convenor.spaces.models import Frame, Post, Space, Thread, Visibility

    rng = np.random.default_rng(seed)
    now = timezone.now()
    vocab = _vocab(rng)
    kinds = [(OrgKind.OURS, 1), (OrgKind.CUSTOMER, 300), (OrgKind.SUPPLIER, 80), (OrgKind.PARTNER, 60)]
    kinds.append((OrgKind.COMPETITOR, 20))
    with transaction.atomic():
        orgs = Organization.objects.bulk_create(
            [Organization(name=f"{k} {i}", name_key=f"{k} {i}", kind=k) for k, count in kinds for i in range(count)]
        )
        by_kind: dict[str, list[int]] = {}
        for o in orgs:
            by_kind.setdefault(o.kind, []).append(o.pk)
        customers = np.array(by_kind[OrgKind.CUSTOMER])
        pairs = {tuple(sorted(rng.choice(customers, size=2, replace=False).tolist())) for _ in range(60)}
        Relationship.objects.bulk_create(
            [
                Relationship(kind=RelationshipKind.COMPETES_WITH, source_org_id=a, target_org_id=b, directed=False)
                for a, b in pairs
            ]
        )
        interests = Interest.objects.bulk_create(
            [Interest(name=" ".join(v[:2]), slug=f"cohort-{i}") for i, v in enumerate(vocab)]
        )
        role_of = {
            OrgKind.OURS: Role.EMPLOYEE,
            OrgKind.CUSTOMER: Role.CUSTOMER,
            OrgKind.SUPPLIER: Role.SUPPLIER,
            OrgKind.PARTNER: Role.PARTNER,
            OrgKind.COMPETITOR: Role.COMPETITOR_CONTACT,
        }
        kind_p = {
            OrgKind.OURS: 0.08,
            OrgKind.CUSTOMER: 0.6,
            OrgKind.SUPPLIER: 0.16,
            OrgKind.PARTNER: 0.12,
            OrgKind.COMPETITOR: 0.04,
        }
        kind_names = list(kind_p)
        m_kind = rng.choice(len(kind_names), size=members, p=list(kind_p.values()))
        m_org = np.array([rng.choice(by_kind[kind_names[k]]) for k in m_kind])
        cohort = rng.integers(0, COHORTS, size=members)
        consent = rng.random(members) >= 0.05
        meets = rng.random(members) < 0.10
        people = Member.objects.bulk_create(
            [
                Member(
                    name=f"Person {i}",
                    email=f"p{i}@bench.example",
                    role=role_of[kind_names[m_kind[i]]],
                    consent_to_contact=bool(consent[i]),
                    meets_competitors=bool(meets[i]),
                )
                for i in range(members)
            ],
            batch_size=5000,
        )
        ids = np.array([p.pk for p in people], dtype=np.int64)
        Affiliation.objects.bulk_create(
            [Affiliation(member_id=int(ids[i]), organization_id=int(m_org[i])) for i in range(members)],
            batch_size=5000,
        )
        through = Member.interests.through
        declared = np.flatnonzero(rng.random(members) < 0.5)
        through.objects.bulk_create(
            [through(member_id=int(ids[i]), interest_id=interests[cohort[i]].pk) for i in declared],
            batch_size=5000,
        )
        space = Space.objects.create(
            name="Bench lounge", slug="bench-lounge", frame=Frame.COMMUNITY, visibility=Visibility.MEMBERS
        )
        posts_per = 3
        authors = np.repeat(np.arange(members), posts_per)
        when = [now - timedelta(days=int(d)) for d in rng.integers(1, 300, size=len(authors))]
        texts = [_text(rng, vocab[cohort[a]]) for a in authors]
        for lo in range(0, len(authors), 20_000):
            hi = min(lo + 20_000, len(authors))
            threads = Thread.objects.bulk_create(
                [
                    Thread(
                        space=space,
                        title=texts[j][:60],
                        author_id=int(ids[authors[j]]),
                        created_at=when[j],
                        last_post_at=when[j],
                    )
                    for j in range(lo, hi)
                ],
                batch_size=5000,
            )
            Post.objects.bulk_create(
                [
                    Post(
                        thread=t,
                        author_id=int(ids[authors[j]]),
                        body=texts[j],
                        html=texts[j],
                        text=texts[j],
                        created_at=when[j],
                    )
                    for t, j in zip(threads, range(lo, hi), strict=True)
                ],
                batch_size=5000,
            )
        # Replies: 3 per person, 85% within the cohort, the rest across (brokers appear).
        by_cohort = [np.flatnonzero(cohort == c) for c in range(COHORTS)]
        acts = []
        k = 0
        for i in range(members):
            for _ in range(3):
                inside = rng.random() < 0.85
                j = int(rng.choice(by_cohort[cohort[i]])) if inside else int(rng.integers(0, members))
                if j == i:
                    continue
                k += 1
                acts.append(
                    Activity(
                        actor_id=int(ids[i]),
                        verb=Verb.REPLIED,
                        target_member_id=int(ids[j]),
                        origin_id=f"bench-reply:{k}",
                        occurred_at=now - timedelta(days=int(rng.integers(1, 300))),
                        place_kind="space",
                        place_id=space.pk,
                    )
                )
        Activity.objects.bulk_create(acts, batch_size=5000)
    return {"ids": ids, "cohort": cohort, "vocab": vocab, "posts": len(authors), "replies": k}


def _topic_cohort(terms: list[str], vocab: list[list[str]]) -> int:
    overlap = [len(set(" ".join(terms[:10]).split()) & set(v)) for v in vocab]
    return int(np.argmax(overlap))


def check(suggestions: list[Any], truth: dict[str, Any]) -> tuple[float, float, list[str]]:
    """Precision of interest and the share of suggestions keeping every rule, read from the database."""
    from convenor.graph import selectors as graph
    from convenor.hotgroups.models import MemberInterest, SuggestionMember
    from convenor.hotgroups.profiles import HOLD_RATIO, HOLD_SHARE
    from convenor.people.models import Affiliation, Member, Organization, OrgKind, Relationship

    pos = {int(m): i for i, m in enumerate(truth["ids"])}
    competing = {
        frozenset(p)
        for p in Relationship.objects.filter(kind="competes_with", source_org__isnull=False).values_list(
            "source_org_id", "target_org_id"
        )
    }
    ours = Organization.objects.get(kind=OrgKind.OURS).pk
    for c in Organization.objects.filter(kind=OrgKind.COMPETITOR).values_list("pk", flat=True):
        competing.add(frozenset((ours, c)))
    scores = graph.node_scores()
    b = np.array([s.brokerage for s in scores.values()])
    p = np.array([s.pagerank for s in scores.values()])
    bq, pq = np.quantile(b, 0.9), np.quantile(p, 0.9)
    right = total = ok = 0
    problems: list[str] = []
    for s in suggestions:
        rows = list(SuggestionMember.objects.filter(suggestion=s).values_list("member_id", flat=True))
        people = {m.pk: m for m in Member.objects.filter(pk__in=rows)}
        org = dict(Affiliation.objects.filter(member_id__in=rows).values_list("member_id", "organization_id"))
        held = dict(MemberInterest.objects.filter(topic=s.topic, member_id__in=rows).values_list("member_id", "ratio"))
        shares = dict(
            MemberInterest.objects.filter(topic=s.topic, member_id__in=rows).values_list("member_id", "share")
        )
        want = _topic_cohort(s.topic.terms, truth["vocab"])
        right += sum(1 for m in rows if truth["cohort"][pos[m]] == want)
        total += len(rows)
        bad = []
        roles = Counter(people[m].role for m in rows)
        if len(roles) < 3:
            bad.append("roles")
        if roles["employee"] < 1:
            bad.append("employee")
        if roles["customer"] < 2:
            bad.append("customers")
        if max(Counter(org.values()).values()) > int(0.4 * len(rows) + 1e-9):
            bad.append("40% cap")
        if not any((m in scores) and (scores[m].brokerage >= bq > 0 or scores[m].pagerank >= pq > 0) for m in rows):
            bad.append("connector")
        if any(not people[m].consent_to_contact for m in rows):
            bad.append("consent")
        if any(held.get(m, 0) < HOLD_RATIO or shares.get(m, 0) < HOLD_SHARE for m in rows):
            bad.append("interest")
        for i, a in enumerate(rows):
            for c in rows[i + 1 :]:
                oa, oc = org.get(a), org.get(c)
                both_in = people[a].meets_competitors and people[c].meets_competitors
                if oa and oc and oa != oc and frozenset((oa, oc)) in competing and not both_in:
                    bad.append("competitors")
        if bad:
            problems.append(f"suggestion {s.pk}: {', '.join(sorted(set(bad)))}")
        else:
            ok += 1
    return right / max(1, total), ok / max(1, len(suggestions)), problems


def pad_posts(total: int) -> int:
    """Copy the written posts (as replies in the same threads) until there are `total`."""
    from django.db import connection, transaction

    from convenor.spaces.models import Post

    cols = "body, html, text, by_staff, created_at, edited_at, reaction_count, author_id, thread_id, state"
    written = Post.objects.count()
    last = Post.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic(), connection.cursor() as cur:
        have = written
        while have < total:
            n = min(written, total - have)
            cur.execute(
                f"INSERT INTO spaces_post ({cols}) SELECT {cols} FROM spaces_post WHERE id <= %s ORDER BY id LIMIT %s",
                [last, n],
            )
            have += n
    return Post.objects.count()


def profile_in_memory(n_posts: int, seed: int) -> dict[str, Any]:
    """Fit on a sample and project `n_posts` generated posts, in batches, like profile_refresh."""
    from convenor.hotgroups.profiles import BATCH, FIT_SAMPLE, fit

    rng = np.random.default_rng(seed + 1)
    vocab = _vocab(np.random.default_rng(seed))
    cohort = rng.integers(0, COHORTS, size=n_posts)
    started, cpu = time.perf_counter(), time.process_time()
    sample = [_text(rng, vocab[c]) for c in cohort[:FIT_SAMPLE]]
    f = fit(sample, COHORTS, seed=seed)
    fit_s = time.perf_counter() - started
    best = np.empty(n_posts, dtype=np.int64)
    gen = gen_cpu = 0.0
    for lo in range(0, n_posts, BATCH):
        t0, c0 = time.perf_counter(), time.process_time()
        texts = [_text(rng, vocab[c]) for c in cohort[lo : lo + BATCH]]
        gen += time.perf_counter() - t0
        gen_cpu += time.process_time() - c0
        best[lo : lo + BATCH] = f.project(texts).argmax(axis=1)
    total = time.perf_counter() - started - gen
    total_cpu = time.process_time() - cpu - gen_cpu
    # How consistently each planted cohort lands on one topic (a sanity figure).
    purity = float(
        np.mean([np.bincount(best[cohort == c]).max() / max(1, (cohort == c).sum()) for c in range(COHORTS)])
    )
    return {
        "posts": n_posts,
        "seconds": round(total, 1),
        "cpu_seconds": round(total_cpu, 1),
        "fit_seconds": round(fit_s, 1),
        "posts_per_second": round(n_posts / total),
        "cohort_purity": round(purity, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--profile-posts", type=int, default=1_000_000)
    parser.add_argument("--db-posts", type=int, default=0, help="pad the database to this many posts before profiling")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-hotgroups-"))
    _django(data)
    from convenor.graph.services import build_map
    from convenor.hotgroups import services
    from convenor.hotgroups.models import SuggestionMember
    from convenor.hotgroups.profiles import profile_refresh
    from convenor.people.models import Member

    out: dict[str, Any] = {"members": args.members, "python": platform.python_version()}
    t = time.perf_counter()
    truth = generate(args.members, args.seed)
    out["generate_seconds"] = round(time.perf_counter() - t, 1)
    out["posts"] = truth["posts"]
    t = time.perf_counter()
    build_map()
    out["map_seconds"] = round(time.perf_counter() - t, 1)
    if args.db_posts > truth["posts"]:
        t = time.perf_counter()
        out["posts"] = truth["posts"] = pad_posts(args.db_posts)
        out["pad_seconds"] = round(time.perf_counter() - t, 1)
    t, cpu = time.perf_counter(), time.process_time()
    run = profile_refresh(n_topics=COHORTS, seed=args.seed)
    prof, prof_cpu = time.perf_counter() - t, time.process_time() - cpu
    out["profile"] = {
        **run.as_dict(),
        "seconds": round(prof, 1),
        "cpu_seconds": round(prof_cpu, 1),
        "posts_per_second": round(truth["posts"] / prof),
        # At this rate (the fit on a 40,000-post sample included, so an overestimate).
        "estimated_seconds_at_1m_posts": round(1_000_000 * prof / truth["posts"]),
    }
    t = time.perf_counter()
    list(Member.objects.values_list("pk", "role"))
    floor = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    done = services.suggestions_create(size=10, limit=20)
    suggest, suggest_cpu = time.perf_counter() - t, time.process_time() - cpu
    out["suggest"] = {
        "groups": len(done.suggestions),
        "seconds": round(suggest, 2),
        # CPU seconds of this process: on a machine shared with other work, wall time
        # overstates what the suggestions cost (database time in SQLite is in-process).
        "cpu_seconds": round(suggest_cpu, 2),
        "floor_seconds": round(floor, 3),
        "suggest_ratio": round(suggest / floor, 1),
        "skipped": len(done.skipped),
    }
    precision, satisfied, problems = check(done.suggestions, truth)
    # The cool-down: a second run proposes nobody again for the same topic.
    again = services.suggestions_create(size=10, limit=20)
    first = {
        (s.topic_id, m)
        for s in done.suggestions
        for m in SuggestionMember.objects.filter(suggestion=s).values_list("member_id", flat=True)
    }
    repeat = [
        (s.topic_id, m)
        for s in again.suggestions
        for m in SuggestionMember.objects.filter(suggestion=s).values_list("member_id", flat=True)
        if (s.topic_id, m) in first
    ]
    p2, s2, problems2 = check(again.suggestions, truth)
    out["interest_precision"] = round(min(precision, p2), 4)
    out["constraint_satisfaction"] = round(
        (satisfied * len(done.suggestions) + s2 * len(again.suggestions) - len(repeat))
        / max(1, len(done.suggestions) + len(again.suggestions)),
        4,
    )
    out["repeated_within_cool_down"] = len(repeat)
    out["problems"] = (problems + problems2)[:10]
    out["profiling_1m"] = profile_in_memory(args.profile_posts, args.seed)
    out["targets"] = {
        "interest_precision": ">= 0.9",
        "constraint_satisfaction": "== 1.0",
        "suggest_seconds_at_100k": "<= 30",
        "profiling_1m": "minutes, not hours",
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
