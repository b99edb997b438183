"""Fixtures for the web page tests: a richer world for pages, and one shared browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core.testing import World
from convenor.people.models import Member, RelationshipKind, Role
from convenor.people.services import identity_add, member_create, member_update, relationship_create

SCREENSHOTS = Path(__file__).resolve().parents[3] / "screenshots"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Richer:
    """Extra people around the small world, so pages have something to show."""

    world: World
    dora: Member
    dora_twin: Member


@pytest.fixture
def richer(world: World) -> Richer:
    member_update(
        member=world.acme_member,
        interests=["Data pipelines", "Security"],
        location="Lyon",
        bio="Runs the data platform at Acme.",
    )
    identity_add(member=world.acme_member, source="slack", external_id="U123", handle="carla")
    dora = member_create(
        name="Dora Acme",
        email="dora@acme.example",
        role=Role.CUSTOMER,
        organization=world.acme,
        title="Analyst",
        interests=["Data pipelines"],
        listed=True,
    )
    dora_twin = member_create(name="Dora Acme", role=Role.CUSTOMER, organization=world.acme, listed=False)
    relationship_create(kind=RelationshipKind.KNOWS, source=world.acme_member, target=world.admin_member)
    relationship_create(kind=RelationshipKind.COLLEAGUE, source=world.acme_member, target=dora)
    record(actor=world.acme_member, verb=Verb.POSTED, object_kind="post", object_id=1)
    record(actor=world.admin_member, verb=Verb.REPLIED, target_member=world.acme_member)
    record(actor=world.acme_member, verb=Verb.REVIEWED, source="g2", origin_id="rev-1", target_org=world.ours)
    return Richer(world=world, dora=dora, dora_twin=dora_twin)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """Playwright's sync API, started once for the run: a second start in the same thread fails."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
    # from a thread with a running loop unless told that this is deliberate.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            yield p
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """One headless Debian chromium for the whole run (never a downloaded browser)."""
    b = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
