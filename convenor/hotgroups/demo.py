"""The demo hot groups: interest profiles, suggestions, and groups convened a few months ago
with a plausible history: invitations accepted or declined, gatherings attended by most,
conversations in their spaces, and word of mouth that took hold around some groups (their
neighbours on the map started writing about the topic after gatherings) and not others.

Runs last among the demo steps: it reads the map (built by the graph step, or here when that
step did not run) and the conversations. Writes go through the services (a few groups of
about ten people, so the volume does not grow with the community); the neighbours' posts are
bulk-inserted with their past dates, then projected onto the topics like any new post.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.db.models import F
from django.test.utils import override_settings
from django.utils import timezone

from convenor.core.errors import ApplicationError
from convenor.events.models import Event, Registration, RegistrationState
from convenor.events.services import checkin
from convenor.hotgroups import services
from convenor.hotgroups.models import Group, GroupMember, GroupMemberState, Topic
from convenor.hotgroups.profiles import profile_refresh
from convenor.hotgroups.wom import spread_measure
from convenor.people.models import Member, Role
from convenor.spaces import markdown
from convenor.spaces.models import Frame, Post, Space, Thread, Visibility

GROUPS = 4
HISTORY_DAYS = 120
LINES = [
    "After talking it through with a few people I now see {a} differently: {b} matters more than {c}.",
    "Someone at a meetup explained how they handle {a}; we are trying their approach to {b}.",
    "Question for the community: how do you balance {a} against {c}?",
    "We finally wrote down our {a} checklist, with a section on {b}.",
]


def _sentence(rng: np.random.Generator, terms: list[str]) -> str:
    a, b, c = (str(t) for t in rng.choice(terms, size=3, replace=len(terms) < 3))
    return str(rng.choice(LINES)).format(a=a, b=b, c=c)


def _posts(space: Space, rows: Sequence[tuple[int, str, datetime]]) -> int:
    """Bulk-write one thread with its opening post per (author, text, when)."""
    if not rows:
        return 0
    threads = Thread.objects.bulk_create(
        [Thread(space=space, title=text[:80], author_id=a, created_at=t, last_post_at=t) for a, text, t in rows]
    )
    Post.objects.bulk_create(
        [
            Post(thread=th, author_id=a, body=text, html=markdown.render(text), text=text, created_at=t)
            for th, (a, text, t) in zip(threads, rows, strict=True)
        ]
    )
    Space.objects.filter(pk=space.pk).update(
        thread_count=F("thread_count") + len(rows), post_count=F("post_count") + len(rows), version=F("version") + 1
    )
    return len(rows)


def build(*, seed: int, progress: Callable[[int, int], None]) -> dict[str, int]:
    """Write the demo hot groups; returns row counts by kind."""
    # The history is written through the services, which email invitations and
    # registrations: keep those emails in memory rather than send or print hundreds.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        return _build(seed=seed, progress=progress)


def _build(*, seed: int, progress: Callable[[int, int], None]) -> dict[str, int]:
    from convenor.graph import selectors as graph
    from convenor.graph.services import build_map

    counts = {"topics": 0, "suggestions": 0, "groups": 0, "invitations": 0, "gatherings": 0, "posts": 0, "spread": 0}
    if Group.objects.exists():
        return counts
    if graph.map_built_at() is None:
        build_map()
    try:
        run = profile_refresh(seed=seed)
    except ApplicationError:
        return counts  # too little text for topics: nothing to convene
    counts["topics"] = run.topics
    rng = np.random.default_rng([seed, 7])
    real_now = timezone.now()
    past = real_now - timedelta(days=HISTORY_DAYS)
    topics = list(Topic.objects.filter(model_id=run.model_id).order_by("-holders", "index")[: GROUPS * 3])
    lounge = (
        Space.objects.filter(frame=Frame.COMMUNITY, visibility__in=[Visibility.MEMBERS, Visibility.PUBLIC])
        .order_by("pk")
        .first()
    )
    made: list[tuple[Group, bool]] = []
    for topic in topics:
        if len(made) >= GROUPS:
            break
        try:
            sug = services.suggestions_create(topic=topic, size=8, limit=1).suggestions[0]
        except ApplicationError:
            continue
        counts["suggestions"] += 1
        facilitator = (
            Member.objects.filter(pk__in=sug.members.values("member_id"), role=Role.EMPLOYEE).order_by("pk").first()
        )
        if facilitator is None:
            continue
        label = (topic.interest_name or topic.label.split(",")[0]).strip()
        with transaction.atomic():
            group = services.group_convene(
                suggestion=sug,
                name=f"{label[:1].upper()}{label[1:]} circle",
                facilitator=facilitator,
                first_at=(past + timedelta(days=10)).replace(hour=17, minute=0, second=0, microsecond=0),
                recurrence="monthly",
                count=6,
                place="Online",
                now=past,
            )
            Group.objects.filter(pk=group.pk).update(created_at=past)
            counts["groups"] += 1
            # Most accept, a few decline or never answer.
            for gm in GroupMember.objects.filter(group=group, state=GroupMemberState.INVITED).select_related("member"):
                counts["invitations"] += 1
                roll = rng.random()
                answered = past + timedelta(days=int(rng.integers(1, 6)))
                if roll < 0.8:
                    services.group_respond(group=group, member=gm.member, accept=True, now=answered)
                elif roll < 0.9:
                    services.group_respond(group=group, member=gm.member, accept=False, now=answered)
            # Gatherings held so far: most members came.
            held = list(Event.objects.filter(series_id=group.series_id, starts_at__lt=real_now).order_by("starts_at"))
            for event in held:
                counts["gatherings"] += 1
                for reg in Registration.objects.filter(event=event, state=RegistrationState.CONFIRMED):
                    if rng.random() < 0.75:
                        checkin(registration=reg, now=event.starts_at + timedelta(minutes=5))
            # Conversation in the group's space after each gathering.
            members = list(
                GroupMember.objects.filter(group=group, state=GroupMemberState.ACTIVE).values_list(
                    "member_id", flat=True
                )
            )
            rows = [
                (int(rng.choice(members)), _sentence(rng, topic.terms), e.starts_at + timedelta(days=int(d)))
                for e in held
                for d in rng.integers(0, 14, size=int(rng.integers(2, 6)))
                if e.starts_at + timedelta(days=int(d)) < real_now
            ]
            assert group.space is not None
            counts["posts"] += _posts(group.space, rows)
        made.append((group, len(made) % 2 == 0))
        progress(len(made), GROUPS)
    # Word of mouth: around every other group, neighbours take the topic up after gatherings.
    if lounge is not None:
        for group, spreads in made:
            if not spreads:
                continue
            ids = list(GroupMember.objects.filter(group=group).values_list("member_id", flat=True))
            around = graph.neighbours(ids)
            neighbours = sorted(set().union(*around.values()) - set(ids)) if around else []
            if not neighbours:
                continue
            rows = []
            for event in Event.objects.filter(series_id=group.series_id, starts_at__lt=real_now):
                takers = rng.choice(neighbours, size=max(1, int(len(neighbours) * 0.4)), replace=False)
                for who in takers.tolist():
                    for _ in range(int(rng.integers(1, 3))):
                        when = event.starts_at + timedelta(days=int(rng.integers(1, 29)), hours=int(rng.integers(0, 9)))
                        if when < real_now:
                            rows.append((int(who), _sentence(rng, group.topic_terms), when))
            counts["posts"] += _posts(lounge, rows)
    profile_refresh(seed=seed)  # projects the posts just written
    for group, _ in made:
        counts["spread"] += len(spread_measure(group=group))
    return counts
