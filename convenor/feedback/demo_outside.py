"""The demo's outside demand: some of the posts the listening demo imported (critical reviews,
blog posts, questions in the Slack community) linked to the demo's ideas, so the idea pages
and the demand view show ideas raised in outside conduits, crediting their authors.

A DEMO_STEP of its own because it reads both apps' demo data: it runs after the listening
step, which runs after feedback's (convenor/people/demo.py). The links go through the real
service (``idea_link_activity``); there are few of them (at most ``MAX_IDEAS`` ideas with one
to three posts each), so the step takes well under a second at any community size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from django.db.models import Q

from convenor.activity.models import Activity
from convenor.feedback import services
from convenor.feedback.models import BoardVisibility, Idea
from convenor.listening.models import OUTSIDE_POST, OutsidePost, PostKind
from convenor.people.models import Member, Role

IDEA_SHARE = 0.12  # of the open ideas on the public and members boards
MIN_IDEAS, MAX_IDEAS = 6, 40
POOL = 2000


def build(*, seed: int, progress: Callable[[int, int], None]) -> dict[str, int]:
    """Link outside posts to ideas; returns counts by kind."""
    counts = {"ideas_with_outside_demand": 0, "linked_outside_posts": 0}
    rng = np.random.default_rng([seed, 10])
    staff = (
        Member.objects.filter(user__staff_role__in=["product", "admin", "community_manager"]).order_by("pk").first()
        or Member.objects.filter(role=Role.EMPLOYEE).order_by("pk").first()
    )
    ideas = list(
        Idea.objects.filter(
            merged_into__isnull=True, board__visibility__in=[BoardVisibility.PUBLIC, BoardVisibility.MEMBERS]
        ).order_by("pk")
    )
    # What reads like demand: critical reviews, blog posts, and questions asked in chat.
    asks = Q(kind=PostKind.REVIEW, rating__lte=3) | Q(kind=PostKind.POST) | Q(kind=PostKind.MESSAGE, text__endswith="?")
    rows = list(OutsidePost.objects.filter(asks).order_by("pk").values_list("pk", "origin_id", "source__key")[:POOL])
    if staff is None or not ideas or not rows:
        return counts
    # Each post's own activity (not its reactions or mentions): the one keyed by its origin id.
    own = {(key, origin): pk for pk, origin, key in rows}
    activity_of = {
        own[(a.source, a.origin_id)]: a
        for a in Activity.objects.filter(
            object_kind=OUTSIDE_POST, object_id__in=[pk for pk, _, _ in rows], origin_id__in=[o for _, o, _ in rows]
        ).select_related("actor")
        if (a.source, a.origin_id) in own
    }
    pool = [pk for pk, _, _ in rows]
    n = int(min(MAX_IDEAS, max(MIN_IDEAS, len(ideas) * IDEA_SHARE), len(ideas)))
    # Popular ideas are the likelier to be raised outside too.
    weight = np.sqrt(np.array([i.vote_count for i in ideas], dtype=np.float64) + 1.0)
    chosen = sorted(int(i) for i in rng.choice(len(ideas), size=n, replace=False, p=weight / weight.sum()))
    for done, index in enumerate(chosen, start=1):
        idea = ideas[index]
        linked = 0
        for k in rng.choice(len(pool), size=min(len(pool), int(rng.integers(1, 4))), replace=False):
            activity = activity_of.get(pool[int(k)])
            if activity is None:
                continue
            services.idea_link_activity(idea=idea, activity=activity, by=staff)
            linked += 1
        counts["linked_outside_posts"] += linked
        counts["ideas_with_outside_demand"] += int(linked > 0)
        progress(done, len(chosen))
    return counts
