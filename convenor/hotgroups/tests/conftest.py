"""A small community with three planted interest cohorts, known competitors and a few
people who belong to none, built through the services (posts record activities, so the
map has lines)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from convenor.core.testing import World
from convenor.people.models import Member, Organization, OrgKind, RelationshipKind, Role
from convenor.people.services import member_create, organization_create, relationship_create
from convenor.spaces.models import Frame, Space, Visibility
from convenor.spaces.services import post_reply, space_create, space_join, thread_create

TOPICS: dict[str, list[str]] = {
    "Stream processing": [
        "kafka",
        "streaming",
        "consumer lag",
        "partitions",
        "schema registry",
        "offsets",
        "brokers",
        "topics compaction",
    ],
    "Privacy compliance": [
        "gdpr",
        "consent records",
        "data subject requests",
        "retention policy",
        "privacy notices",
        "processors",
        "audit trail",
        "erasure",
    ],
    "Demand forecasting": [
        "forecast",
        "seasonality",
        "demand planning",
        "safety stock",
        "forecast accuracy",
        "promotions uplift",
        "replenishment",
        "baseline",
    ],
}
TEMPLATES = [
    "How do you handle {a} when {b} grows? Our {c} setup struggles.",
    "We changed how we do {a}; {b} and {c} were the hard parts.",
    "Notes from our {a} review: {b} first, then {c}.",
    "Has anyone compared approaches to {a} and {b}? We care about {c}.",
]


@dataclass
class Community:
    world: World
    space: Space
    cohorts: dict[str, list[Member]] = field(default_factory=dict)
    orgs: dict[str, Organization] = field(default_factory=dict)
    others: list[Member] = field(default_factory=list)


def _text(rng: random.Random, terms: list[str]) -> str:
    a, b, c = rng.sample(terms, 3)
    return rng.choice(TEMPLATES).format(a=a, b=b, c=c)


# Who is in each cohort: (role, organisation key); "ours" is our company.
SEATS = [
    ("employee", "ours"),
    ("employee", "ours"),
    ("employee", "ours"),
    ("customer", "acme"),
    ("customer", "globex"),
    ("customer", "initech"),
    ("customer", "umbrella"),
    ("customer", "hooli"),
    ("supplier", "stark"),
    ("supplier", "wayne"),
    ("partner", "cyberdyne"),
    ("partner", "cyberdyne"),
    ("competitor_contact", "rival"),
    ("customer", "initech"),
]


def build_community(world: World, *, seed: int = 7) -> Community:
    rng = random.Random(seed)
    space = space_create(
        name="Community lounge", frame=Frame.COMMUNITY, visibility=Visibility.MEMBERS, creator=world.admin_member
    )
    space.charter_threshold = 0.99
    space.save(update_fields=["charter_threshold"])
    orgs = {"ours": world.ours, "acme": world.acme, "globex": world.globex}
    for key, name, kind in [
        ("initech", "Initech", OrgKind.CUSTOMER),
        ("umbrella", "Umbrella", OrgKind.CUSTOMER),
        ("hooli", "Hooli", OrgKind.CUSTOMER),
        ("stark", "Stark Supplies", OrgKind.SUPPLIER),
        ("wayne", "Wayne Parts", OrgKind.SUPPLIER),
        ("cyberdyne", "Cyberdyne Partners", OrgKind.PARTNER),
        ("rival", "Rival Corp", OrgKind.COMPETITOR),
    ]:
        orgs[key] = organization_create(name=name, kind=kind)
    relationship_create(kind=RelationshipKind.COMPETES_WITH, source=orgs["initech"], target=orgs["hooli"])
    com = Community(world=world, space=space, orgs=orgs)
    n = 0
    for topic, terms in TOPICS.items():
        people = []
        for role, org in SEATS:
            n += 1
            m = member_create(
                name=f"{topic.split()[0]} {role.split('_')[0].title()} {n}",
                email=f"p{n}@{org}.example",
                role=role,
                organization=orgs[org],
                interests=[topic],
            )
            space_join(space=space, member=m)
            people.append(m)
        com.cohorts[topic] = people
        for i, m in enumerate(people):
            for _ in range(3):
                thread = thread_create(space=space, author=m, title=_text(rng, terms)[:80], body=_text(rng, terms))
                # A neighbour in the cohort answers: influence lines for the map, some ties.
                post_reply(thread=thread, author=people[(i + 1) % len(people)], body=_text(rng, terms))
    for k in range(6):
        n += 1
        m = member_create(name=f"Bystander {k}", email=f"b{k}@elsewhere.example", role=Role.OTHER)
        space_join(space=space, member=m)
        com.others.append(m)
        thread_create(
            space=space,
            author=m,
            title="Weekend plans and coffee",
            body="Anyone going hiking this weekend? The coffee machine on floor two is fixed again.",
        )
    return com


@pytest.fixture
def community(world: World) -> Community:
    return build_community(world)


@pytest.fixture
def profiled(community: Community) -> Community:
    from convenor.hotgroups.profiles import profile_refresh

    profile_refresh(n_topics=4)
    return community


@pytest.fixture
def mapped(profiled: Community) -> Community:
    """The community with its map built, then the profiles rebuilt against it."""
    from convenor.graph.services import build_map
    from convenor.hotgroups.profiles import profile_refresh

    build_map()
    profile_refresh()
    return profiled
