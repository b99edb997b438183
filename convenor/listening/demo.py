"""The demo's outside conversations: a blog feed with comments, reviews from two review
sites and a Slack community export, about our company and its competitors, imported
through the real importers (so identity resolution, mentions and runs are the real thing).

Authors are partly demo members (matched by email, as a real import would) and partly
strangers, who become observed people. The volume is fixed and small (about 2,500 posts),
so the step takes seconds at any community size; the members it samples are read once.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from convenor.listening import services, slack_export
from convenor.listening.models import BrandAlias
from convenor.people.models import Member, Organization, OrgKind, Role

SLACK_MESSAGES = 2000
REVIEWS = 240
POSTS = 40
STRANGERS = 120

_GOOD = [
    "is great",
    "saved us hours",
    "just works",
    "support was excellent",
    "is fast and reliable",
    "made backfills painless",
]
_BAD = ["is too expensive", "keeps timing out", "support was slow", "has a clunky UI", "broke after the upgrade"]
_TOPICS = [
    "nightly backfills",
    "schema migrations",
    "streaming joins",
    "the scheduler",
    "data contracts",
    "lineage graphs",
    "alert fatigue",
    "cost dashboards",
    "dbt models",
    "retry policies",
    "warehouse sizing",
]


def _brand_names() -> tuple[str, list[str]]:
    ours = Organization.objects.filter(kind=OrgKind.OURS).first()
    ours_word = ours.name.split()[0] if ours else "Northwind"
    competitors = list(
        Organization.objects.filter(kind=OrgKind.COMPETITOR).order_by("pk").values_list("name", flat=True)[:4]
    )
    return ours_word, competitors


def _add_aliases() -> int:
    added = 0
    for org in Organization.objects.filter(kind__in=[OrgKind.OURS, OrgKind.COMPETITOR]).order_by("pk")[:5]:
        word = org.name.split()[0]
        if len(word) >= 4 and word.lower() != org.name.lower():
            taken = (
                BrandAlias.objects.filter(alias__iexact=word).exists()
                or Organization.objects.filter(name_key=word.lower()).exists()
            )
            if not taken:
                BrandAlias.objects.create(organization=org, alias=word)
                added += 1
    return added


def _sentence(rng: random.Random, brands: list[str]) -> str:
    brand = rng.choice(brands)
    verdict = rng.choice(_GOOD if rng.random() < 0.6 else _BAD)
    return f"{brand} {verdict} for {rng.choice(_TOPICS)}."


def _people(rng: random.Random) -> list[tuple[str, str]]:
    known = list(
        Member.objects.filter(
            role__in=[Role.CUSTOMER, Role.PROSPECT, Role.PARTNER], email__isnull=False, observed=False
        )
        .order_by("pk")
        .values_list("name", "email")[:400]
    )
    rng.shuffle(known)
    strangers = [(f"Guest {i}", f"guest{i}@mail.example") for i in range(STRANGERS)]
    return [(n, e or "") for n, e in known[:200]] + strangers


def _feed(rng: random.Random, people: list[tuple[str, str]], brands: list[str], start: datetime) -> bytes:
    entries = []
    for i in range(POSTS):
        name, email = rng.choice(people)
        when = start + timedelta(days=rng.randrange(330))
        pid = f"tag:blog.example,2026:post-{i}"
        title = f"{rng.choice(brands)} and {rng.choice(_TOPICS)}"
        entries.append(
            f"<entry><id>{pid}</id><title>{escape(title)}</title><updated>{when:%Y-%m-%dT%H:%M:%SZ}</updated>"
            f"<author><name>{escape(name)}</name><email>{escape(email)}</email></author>"
            f"<link href='https://blog.example/posts/{i}'/><content type='text'>"
            f"{escape(_sentence(rng, brands))} {escape(_sentence(rng, brands))}</content></entry>"
        )
        for c in range(rng.randrange(4)):
            cname, cemail = rng.choice(people)
            entries.append(
                f"<entry><id>{pid}-c{c}</id><title>Re: {escape(title)}</title>"
                f"<updated>{when + timedelta(hours=c + 1):%Y-%m-%dT%H:%M:%SZ}</updated>"
                f"<author><name>{escape(cname)}</name><email>{escape(cemail)}</email></author>"
                f"<thr:in-reply-to ref='{pid}'/><content type='text'>{escape(_sentence(rng, brands))}</content></entry>"
            )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom' "
        "xmlns:thr='http://purl.org/syndication/thread/1.0'><title>Data Practitioners Blog</title>"
        f"<id>tag:blog.example,2026:feed</id><updated>{start:%Y-%m-%dT%H:%M:%SZ}</updated>{''.join(entries)}</feed>"
    ).encode()


def _reviews(rng: random.Random, people: list[tuple[str, str]], brands: list[str], start: datetime) -> bytes:
    rows = []
    for i in range(REVIEWS):
        name, email = rng.choice(people)
        good = rng.random() < 0.6
        brand = rng.choice(brands)
        rows.append(
            {
                "id": f"rv-{i}",
                "author": name,
                "email": email,
                "rating": rng.choice([4, 5]) if good else rng.choice([1, 2, 3]),
                "title": f"{brand}: {'recommended' if good else 'disappointed'}",
                "text": f"{brand} {rng.choice(_GOOD if good else _BAD)}. We use it for {rng.choice(_TOPICS)}.",
                "date": (start + timedelta(days=rng.randrange(330))).strftime("%d %b %Y"),
                "url": f"https://reviews.example/r/{i}",
                "site": rng.choice(["G2", "Capterra"]),
            }
        )
    return json.dumps({"reviews": rows}).encode()


def _slack(path: Path, rng: random.Random, people: list[tuple[str, str]], brands: list[str], start: datetime) -> None:
    users = [slack_export.user(f"U{i:05d}", n, e, f"user{i}") for i, (n, e) in enumerate(people)]
    channels = ["general", "pipelines", "help", "random", "jobs"]
    days: dict[tuple[str, str], list[dict[str, object]]] = {}
    for k in range(SLACK_MESSAGES):
        channel = rng.choice(channels)
        day = start + timedelta(days=rng.randrange(330))
        batch = days.setdefault((channel, f"{day:%Y-%m-%d}"), [])
        ts = f"{day.timestamp() + k:.6f}"
        text = (
            _sentence(rng, brands)
            if rng.random() < 0.3
            else f"{rng.choice(slack_export.OPENERS)} {rng.choice(_TOPICS)}?"
        )
        msg: dict[str, object] = {
            "type": "message",
            "user": users[rng.randrange(len(users))]["id"],
            "text": text,
            "ts": ts,
        }
        if batch and rng.random() < 0.3:
            msg["thread_ts"] = batch[0]["ts"]
        if rng.random() < 0.15:
            msg["reactions"] = [{"name": "+1", "users": [users[rng.randrange(len(users))]["id"]], "count": 1}]
        batch.append(msg)
    slack_export.write(
        path, users=users, channels=[{"id": f"C{i}", "name": c} for i, c in enumerate(channels)], days=days
    )


def build(*, seed: int, progress: Callable[[int, int], None]) -> dict[str, int]:
    rng = random.Random(seed)  # noqa: S311  # demo data, not secrets
    ours_word, competitors = _brand_names()
    aliases = _add_aliases()
    brands = [ours_word] * 2 + competitors if competitors else [ours_word]
    people = _people(rng)
    start = datetime(2025, 1, 6, tzinfo=UTC)
    counts = {"aliases": aliases, "posts": 0, "runs": 0, "rejected": 0}
    with tempfile.TemporaryDirectory(prefix="convenor-demo-listening-") as tmp:
        folder = Path(tmp)
        (folder / "practitioners.atom").write_bytes(_feed(rng, people, brands, start))
        (folder / "reviews.json").write_bytes(_reviews(rng, people, brands, start))
        _slack(folder / "data-community.zip", rng, people, brands, start)
        plan = [
            ("rss", folder / "practitioners.atom", "Data Practitioners Blog"),
            ("reviews", folder / "reviews.json", "Review sites"),
            ("slack", folder / "data-community.zip", "Data community Slack"),
        ]
        for done, (importer, path, name) in enumerate(plan, start=1):
            source = services.source_for_import(importer=importer, filename=path.name, name=name)
            run = services.import_file(importer=importer, path=path, source=source, filename=path.name)
            counts["posts"] += run.created
            counts["rejected"] += run.rejected
            counts["runs"] += 1
            progress(done, len(plan))
    counts["observed_people"] = Member.objects.filter(observed=True).count()
    return counts
