"""Writing Slack workspace exports: in the layout Slack's "Export data" produces
(users.json, channels.json, <channel>/<YYYY-MM-DD>.json), for tests, the demo and the
ingest benchmark. `generate` streams day files into the zip, so a million messages take
no more memory than one day."""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OPENERS = [
    "Has anyone tried",
    "We just rolled out",
    "Quick question about",
    "Loving the new",
    "Struggling with",
    "Any tips for",
    "Our team moved to",
    "Heads up: trouble with",
    "Great talk today on",
    "Does anyone benchmark",
]
TOPICS = [
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
    "incident reviews",
]
TAILS = ["", " thanks!", " it is great", " it is painful", " any advice?", " works well for us", " so slow lately", ""]


def write(
    path: Path,
    *,
    users: list[dict[str, Any]],
    channels: list[dict[str, Any]],
    days: dict[tuple[str, str], list[dict[str, Any]]],
) -> Path:
    """A small export from explicit users, channels and {(channel, "YYYY-MM-DD"): messages}."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("users.json", json.dumps(users))
        zf.writestr("channels.json", json.dumps(channels))
        for (channel, day), messages in sorted(days.items()):
            zf.writestr(f"{channel}/{day}.json", json.dumps(messages))
    return path


def user(uid: str, name: str, email: str = "", handle: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "id": uid,
        "name": handle or name.lower().replace(" ", "."),
        "real_name": name,
        "deleted": False,
        "is_bot": False,
        "profile": {"real_name": name, "display_name": handle or "", "email": email},
        **extra,
    }


def generate(
    path: Path,
    *,
    people: int,
    messages: int,
    channels: int = 20,
    seed: int = 1,
    start: datetime | None = None,
    brands: Iterable[str] = ("Northwind", "Contoso"),
    brand_rate: float = 0.05,
    domains: Iterable[str] = ("example.com",),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write an export of `messages` messages by `people` people over `channels` channels,
    with threads (a fifth are replies), reactions and brand mentions. Deterministic for a seed."""
    rng = random.Random(seed)  # noqa: S311  # sample data, not secrets
    brand_list = list(brands)
    domain_list = list(domains)
    start = start or datetime(2025, 1, 1, tzinfo=UTC)
    per_day = max(1, min(400, messages // max(1, channels * 30)))
    written = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(
            "users.json",
            json.dumps(
                [
                    user(f"U{i:07d}", f"Person {i}", f"person{i}@{domain_list[i % len(domain_list)]}", f"person{i}")
                    for i in range(people)
                ]
            ),
        )
        names = [f"channel-{c:02d}" for c in range(channels)]
        zf.writestr(
            "channels.json",
            json.dumps(
                [{"id": f"C{c:07d}", "name": n, "created": 1700000000, "members": []} for c, n in enumerate(names)]
            ),
        )
        day = 0
        while written < messages:
            date = start + timedelta(days=day)
            for name in names:
                if written >= messages:
                    break
                count = min(per_day, messages - written)
                base = date.timestamp()
                batch: list[dict[str, Any]] = []
                for k in range(count):
                    ts = f"{base + k * 7 + rng.random():.6f}"
                    text = f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}{rng.choice(TAILS)}"
                    if rng.random() < brand_rate:
                        text = f"{rng.choice(brand_list)}: {text}"
                    msg: dict[str, Any] = {
                        "type": "message",
                        "user": f"U{rng.randrange(people):07d}",
                        "text": text,
                        "ts": ts,
                    }
                    if batch and rng.random() < 0.2:
                        parent = batch[rng.randrange(len(batch))]
                        msg["thread_ts"] = parent.get("thread_ts", parent["ts"])
                    if rng.random() < 0.1:
                        msg["reactions"] = [{"name": "+1", "users": [f"U{rng.randrange(people):07d}"], "count": 1}]
                    batch.append(msg)
                with zf.open(f"{name}/{date:%Y-%m-%d}.json", "w") as fh:
                    fh.write(json.dumps(batch).encode())
                written += count
                if progress is not None:
                    progress(written, messages)
            day += 1
    return {"messages": written, "people": people, "channels": channels, "days": day}
