"""The charter's demo: pitches posted through the real services, held, and some decided.

The bulk conversations (convenor/spaces/demo.py) are written by SQL and never meet the
detector. This step posts a dozen replies in the open community spaces the way a person
would (``post_reply``), so the detector holds the pitches with its real reasons; then the
spaces' moderators reject some pitches and approve what only looked commercial, and some
authors ask for a review. The moderation queue, the author's notice and the leakage report have something to
show. Without a model file the posts are held as "unchecked", as the policy says.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from convenor.people.models import Member, OrgKind, Role
from convenor.spaces import demo_phrases as ph
from convenor.spaces import services
from convenor.spaces.models import (
    Decision,
    Frame,
    MembershipState,
    PostState,
    Space,
    SpaceRole,
    Thread,
    Visibility,
)

# Texts that look commercial but are community: a moderator approves them when held.
LOOKS_COMMERCIAL = [
    "Is there a way to book a demo of the new reporting module for our team, or is it Enterprise only?",
    "We compared both vendors' pricing pages for {term}: one charges per seat, the other per workspace. "
    "Which worked out cheaper for you at 40 people?",
    "Free community meetup on {term} next Thursday, no sales talk, just three short talks and pizza.",
]
PITCHES = ph.PITCH_LOUD + ph.PITCH_SUBTLE
TERMS = ["reporting", "invoicing", "onboarding", "data imports", "scheduling", "access reviews"]


def build(*, seed: int, progress: Callable[[int, int], None]) -> dict[str, int]:
    rng = np.random.default_rng(seed + 505)
    spaces = list(
        Space.objects.filter(
            frame=Frame.COMMUNITY, visibility__in=[Visibility.PUBLIC, Visibility.MEMBERS], archived_at=None
        ).order_by("pk")
    )
    sellers = list(
        Member.objects.filter(
            affiliations__ended_on=None,
            affiliations__organization__kind__in=[OrgKind.SUPPLIER, OrgKind.PARTNER],
        ).order_by("pk")[:50]
    )
    customers = list(Member.objects.filter(role=Role.CUSTOMER).order_by("pk")[:50])
    counts = {"posted": 0, "held": 0, "approved": 0, "rejected": 0, "review_requested": 0}
    if not spaces or not sellers or not customers:
        return counts
    threads = list(
        Thread.objects.filter(space__in=spaces, locked=False).order_by("-last_post_at", "-pk")[: 4 * len(spaces)]
    )
    if not threads:
        return counts
    posts = []
    for i in range(12):
        pitch = i % 4 != 3  # one in four looks commercial but is community
        thread = threads[i % len(threads)]
        term = TERMS[int(rng.integers(len(TERMS)))]
        templates = PITCHES if pitch else LOOKS_COMMERCIAL
        body = templates[int(rng.integers(len(templates)))].format(term=term, topic=term)
        people = sellers if pitch else customers
        author = people[int(rng.integers(len(people)))]
        posts.append(services.post_reply(thread=thread, author=author, body=body))
        counts["posted"] += 1
        progress(i + 1, 12)
    held = [p for p in posts if p.state == PostState.HELD]
    counts["held"] = len(held)
    # Moderators decide on some; some authors ask for a review; the rest wait in the queue.
    pitches = 0
    for post in held:
        space = post.thread.space
        moderator = (
            Member.objects.filter(
                space_memberships__space=space,
                space_memberships__role=SpaceRole.MODERATOR,
                space_memberships__state=MembershipState.ACTIVE,
            )
            .order_by("pk")
            .first()
        )
        if post.author.role == Role.CUSTOMER:  # looks commercial: a false positive, approved
            if moderator is not None:
                services.post_moderate(post=post, moderator=moderator, decision=Decision.APPROVE)
                counts["approved"] += 1
            continue
        step, pitches = pitches % 3, pitches + 1
        if moderator is not None and step == 0:
            services.post_moderate(
                post=post, moderator=moderator, decision=Decision.REJECT, reason="selling in a community space"
            )
            counts["rejected"] += 1
        elif step == 1:
            services.post_request_review(post=post, member=post.author)
            counts["review_requested"] += 1
    return counts
