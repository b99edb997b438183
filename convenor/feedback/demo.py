"""The demo's feedback: boards, ideas in every status, votes, comments, status histories with
notes, changelog entries, and ideas linked to the demo's posts.

Called by ``convenor.people.demo.build_demo`` (DEMO_STEPS) after the community, spaces and
events exist. Choices are made with numpy and rows written with ``bulk_create`` in batches,
never one query per member: the number of ideas grows slowly with the community (one per 40
members, 30 to 500) and votes follow a steep popularity curve, so a few ideas draw most of
them, as on real boards. The activity log gets exactly what the services record
(``idea:<id>``, ``vote:<idea>:<member>``, ``idea-comment:<id>``), through ``record_many``.
Counters are set by the recount service at the end, so they are exact by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from convenor.activity.models import Verb
from convenor.activity.services import ActivityRecord, record_many
from convenor.feedback.models import (
    Board,
    BoardVisibility,
    Idea,
    IdeaComment,
    IdeaFollow,
    IdeaSource,
    IdeaStatus,
    SourceKind,
    StatusChange,
    Vote,
)
from convenor.feedback.services import PLACE, recount_all
from convenor.people.demo import _insert
from convenor.people.models import Affiliation, Interest, Member, OrgKind, Role
from convenor.spaces.models import Post, PostState, Visibility

MEMBERS_PER_IDEA = 40
MIN_IDEAS, MAX_IDEAS = 30, 500
VOTES_PER_MEMBER = 0.5
MAX_VOTES = 150_000
ACCOUNT_BOARDS = 3
LINKED_SHARE = 0.4
BATCH = 5000

STATUS_SHARE = [
    (IdeaStatus.NEW, 0.34),
    (IdeaStatus.UNDER_REVIEW, 0.14),
    (IdeaStatus.PLANNED, 0.14),
    (IdeaStatus.IN_PROGRESS, 0.10),
    (IdeaStatus.SHIPPED, 0.20),
    (IdeaStatus.DECLINED, 0.08),
]
PATH = [IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW, IdeaStatus.PLANNED, IdeaStatus.IN_PROGRESS, IdeaStatus.SHIPPED]

TITLES = [
    "Export {topic} reports to CSV",
    "Single sign-on for {topic}",
    "Dark mode in the {topic} dashboard",
    "Webhooks when {topic} jobs finish",
    "Bulk edit for {topic} settings",
    "Audit log of {topic} changes",
    "Scheduled {topic} reports by email",
    "Better search in {topic}",
    "Role-based permissions for {topic}",
    "A public API for {topic}",
    "Offline mode for {topic} on mobile",
    "Custom fields in {topic}",
    "Faster {topic} imports for large files",
    "Slack notifications from {topic}",
    "Keyboard shortcuts in {topic}",
]
DESCRIPTIONS = [
    "We spend an hour every week doing this by hand for {topic}. It would save our team a lot of time.",
    "Our auditors keep asking for this. Today we work around it with spreadsheets, which is error-prone.",
    "Every new colleague asks where this is. Competitors have it; we would rather stay with you.",
    "This blocks a rollout to two more departments. Happy to test an early version.",
]
NOTES = {
    IdeaStatus.UNDER_REVIEW: "Thanks for all the votes: the product team is looking at how people use {topic} today.",
    IdeaStatus.PLANNED: "Planned for next quarter. We will share a design in this thread first.",
    IdeaStatus.IN_PROGRESS: "Being built now; an early version goes to a few of you who offered to test.",
    IdeaStatus.SHIPPED: "Shipped in release {release}: {title_l} is available to everyone. Thank you for asking.",
    IdeaStatus.DECLINED: "We will not build this: it overlaps with work that covers the same need differently.",
}
COMMENTS = [
    "+1, we need this too.",
    "Same here: this would save us hours every month.",
    "Would this also cover the API?",
    "We worked around it with a script; happy to share it.",
    "This is the one thing our team keeps asking for.",
    "Important for our compliance review next year.",
]


def idea_count(members: int) -> int:
    return int(min(MAX_IDEAS, max(MIN_IDEAS, members // MEMBERS_PER_IDEA)))


def build(*, seed: int, progress: Callable[[int, int], None]) -> dict[str, int]:
    """Write the demo feedback; returns row counts by kind."""
    rng = np.random.default_rng([seed, 9])
    counts = {k: 0 for k in ("boards", "ideas", "votes", "comments", "status_changes", "linked_posts", "activities")}
    people = np.array(
        Member.objects.filter(observed=False).exclude(role=Role.EMPLOYEE).order_by("pk").values_list("pk", flat=True),
        dtype=np.int64,
    )
    staff = (
        Member.objects.filter(user__staff_role__in=["product", "admin", "community_manager"]).order_by("pk").first()
        or Member.objects.filter(role=Role.EMPLOYEE).order_by("pk").first()
    )
    if len(people) < 10 or staff is None:
        return counts
    now = timezone.now()
    topics = list(Interest.objects.order_by("name").values_list("name", flat=True)[:40]) or ["reports"]

    # Boards: a public one, one for members, and private boards for the customers with the
    # most people (those with a private space first).
    public = Board.objects.create(
        name="Product ideas",
        slug=_slug("product-ideas"),
        description="Ideas anyone can read. Vote for what matters to you.",
        visibility=BoardVisibility.PUBLIC,
        created_by=staff,
    )
    members_board = Board.objects.create(
        name="Members' wishlist",
        slug=_slug("members-wishlist"),
        description="For logged-in members: workflow ideas, integrations, admin tools.",
        visibility=BoardVisibility.MEMBERS,
        created_by=staff,
    )
    boards: list[tuple[Board, np.ndarray]] = [(public, people), (members_board, people)]
    from convenor.spaces.models import Space

    with_space = list(
        Space.objects.filter(visibility=Visibility.ACCOUNT).order_by("pk").values_list("organization_id", flat=True)
    )
    for org_id in with_space[:ACCOUNT_BOARDS]:
        org_people = np.array(
            Affiliation.objects.filter(organization_id=org_id, ended_on__isnull=True)
            .exclude(organization__kind=OrgKind.OURS)
            .values_list("member_id", flat=True),
            dtype=np.int64,
        )
        if len(org_people) < 2:
            continue
        from convenor.people.models import Organization

        org = Organization.objects.get(pk=org_id)
        board = Board.objects.create(
            name=f"{org.name} roadmap requests",
            slug=_slug(f"{org.name}-roadmap"),
            description=f"Private to {org.name} and the employees who work with them.",
            visibility=BoardVisibility.ACCOUNT,
            organization=org,
            created_by=staff,
        )
        boards.append((board, org_people))
    counts["boards"] = len(boards)

    # Ideas: most on the public and members boards, a few on each private one.
    n_ideas = idea_count(len(people))
    board_of = rng.choice(len(boards), size=n_ideas, p=_board_shares(len(boards)))
    statuses = rng.choice(len(STATUS_SHARE), size=n_ideas, p=[s for _, s in STATUS_SHARE])
    ages = rng.integers(5, 365, size=n_ideas)
    ideas: list[Idea] = []
    seen_titles: set[tuple[int, str]] = set()
    for i in range(n_ideas):
        b, pool = boards[int(board_of[i])]
        topic = topics[int(rng.integers(len(topics)))]
        title = TITLES[int(rng.integers(len(TITLES)))].format(topic=topic)
        if (b.pk, title) in seen_titles:
            title = f"{title} ({i})"
        seen_titles.add((b.pk, title))
        created = now - timedelta(days=int(ages[i]), minutes=int(rng.integers(1440)))
        ideas.append(
            Idea(
                board=b,
                title=title,
                description=DESCRIPTIONS[int(rng.integers(len(DESCRIPTIONS)))].format(topic=topic),
                author_id=int(pool[int(rng.integers(len(pool)))]),
                status=STATUS_SHARE[int(statuses[i])][0],
                created_at=created,
            )
        )
    # Status histories: each idea walked along new → under review → planned → in progress →
    # shipped (declined ideas stop after review), every step with a note by product staff.
    changes: list[StatusChange] = []
    release = 40
    for idea in sorted(ideas, key=lambda x: x.created_at):
        if idea.status == IdeaStatus.NEW:
            continue
        steps = (
            [IdeaStatus.UNDER_REVIEW, IdeaStatus.DECLINED]
            if idea.status == IdeaStatus.DECLINED
            else PATH[1 : PATH.index(IdeaStatus(idea.status)) + 1]
        )
        at = idea.created_at
        gap = max(60.0, (now - idea.created_at).total_seconds() / (len(steps) + 1))
        before = IdeaStatus.NEW
        topic = idea.title
        for step in steps:
            at = at + timedelta(seconds=gap * (0.6 + 0.4 * float(rng.random())))
            if step == IdeaStatus.SHIPPED:
                release += 1
            note = NOTES[step].format(
                topic=topic, release=f"4.{release}", title_l=idea.title[:1].lower() + idea.title[1:]
            )
            changes.append(
                StatusChange(idea=idea, from_status=before, to_status=step, note=note, by=staff, created_at=at)
            )
            before = step
        idea.status_changed_at = at
        if idea.status == IdeaStatus.SHIPPED:
            idea.shipped_at, idea.changelog_note = at, changes[-1].note
    # (Written once the ideas have their ids, just below.)
    # Links to the demo's posts: about two in five ideas came from a conversation; the idea
    # credits the post's author. Private boards' ideas come from their own account space.
    links = _pick_posts(rng, ideas, boards)
    ideas = Idea.objects.bulk_create(ideas, batch_size=BATCH)
    StatusChange.objects.bulk_create(changes, batch_size=BATCH)
    counts["status_changes"] = len(changes)
    counts["ideas"] = len(ideas)
    counts["linked_posts"] = _write_links(links, staff, now)
    progress(len(ideas), 0)

    # Votes: a steep popularity curve (a few ideas draw most votes), from each board's audience.
    total_votes = int(min(MAX_VOTES, len(people) * VOTES_PER_MEMBER))
    popularity = 1.0 / np.arange(1, n_ideas + 1) ** 1.1
    rng.shuffle(popularity)
    per_idea = np.maximum(1, np.round(popularity / popularity.sum() * total_votes)).astype(np.int64)
    # Votes and follows are most of the rows: written column by column with multi-row
    # INSERTs (as the people and events demos do), not as model instances.
    adapt = connection.ops.adapt_datetimefield_value
    vote_cols: dict[str, list[Any]] = {"idea_id": [], "member_id": [], "importance": [], "created_at": []}
    by_idea: dict[int, list[tuple[int, datetime]]] = {}
    follow_at: dict[tuple[int, int], datetime] = {}
    records: list[ActivityRecord] = []
    board_pool = {b.pk: pool for b, pool in boards}
    for idea, k in zip(ideas, per_idea, strict=True):
        pool = board_pool[idea.board_id]
        voters = np.unique(pool[rng.integers(0, len(pool), size=int(min(k, len(pool))))])
        span = max(1.0, (now - idea.created_at).total_seconds())
        offsets = rng.random(len(voters)) * span
        importance = rng.choice(4, size=len(voters), p=[0.4, 0.25, 0.2, 0.15])
        mine = by_idea.setdefault(idea.pk, [])
        if idea.author_id is not None:
            follow_at[(idea.pk, idea.author_id)] = idea.created_at
        for member_id, offset, imp in zip(voters.tolist(), offsets.tolist(), importance.tolist(), strict=True):
            at = idea.created_at + timedelta(seconds=offset)
            vote_cols["idea_id"].append(idea.pk)
            vote_cols["member_id"].append(member_id)
            vote_cols["importance"].append(imp or None)
            vote_cols["created_at"].append(adapt(at))
            mine.append((member_id, at))
            follow_at.setdefault((idea.pk, member_id), at)
            records.append(
                ActivityRecord(
                    actor_id=member_id,
                    verb=Verb.VOTED,
                    origin_id=f"vote:{idea.pk}:{member_id}",
                    occurred_at=at,
                    target_member_id=idea.author_id if idea.author_id != member_id else None,
                    object_kind="idea",
                    object_id=idea.pk,
                    place_kind=PLACE,
                    place_id=idea.board_id,
                    data={"importance": imp or None},
                )
            )
        records.append(
            ActivityRecord(
                actor_id=int(idea.author_id or 0),
                verb=Verb.SUBMITTED_IDEA,
                origin_id=f"idea:{idea.pk}",
                occurred_at=idea.created_at,
                object_kind="idea",
                object_id=idea.pk,
                place_kind=PLACE,
                place_id=idea.board_id,
            )
        )
    # The post authors' follows (written with the links) are there already.
    for pair in IdeaFollow.objects.values_list("idea_id", "member_id"):
        follow_at.pop(pair, None)
    with connection.cursor() as cursor:
        if vote_cols["idea_id"]:
            _insert(cursor, Vote._meta.db_table, {name: values for name, values in vote_cols.items()})
        if follow_at:
            _insert(
                cursor,
                IdeaFollow._meta.db_table,
                {
                    "idea_id": [i for i, _ in follow_at],
                    "member_id": [m for _, m in follow_at],
                    "created_at": [adapt(at) for at in follow_at.values()],
                },
            )
    counts["votes"] = len(vote_cols["idea_id"])
    progress(len(ideas) + counts["votes"], 0)

    # Comments: about one for every 25 votes, more on popular ideas, from their voters.
    comments: list[IdeaComment] = []
    for idea in ideas:
        vs = by_idea.get(idea.pk, [])
        for member_id, at in vs[: min(8, len(vs) // 25 + int(rng.random() < 0.4))]:
            comments.append(
                IdeaComment(
                    idea=idea,
                    author_id=member_id,
                    body=COMMENTS[int(rng.integers(len(COMMENTS)))],
                    created_at=at + timedelta(minutes=3),
                )
            )
    comments = IdeaComment.objects.bulk_create(comments, batch_size=BATCH)
    records += [
        ActivityRecord(
            actor_id=c.author_id,
            verb=Verb.COMMENTED,
            origin_id=f"idea-comment:{c.pk}",
            occurred_at=c.created_at,
            object_kind="idea",
            object_id=c.idea_id,
            place_kind=PLACE,
            place_id=c.idea.board_id,
        )
        for c in comments
    ]
    counts["comments"] = len(comments)

    counts["activities"] = record_many(records)
    recount_all()
    progress(sum(counts.values()), sum(counts.values()))
    return counts


def _slug(base: str) -> str:
    slug = slugify(base)[:100] or "board"
    candidate, n = slug, 2
    while Board.objects.filter(slug=candidate).exists():
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def _board_shares(n: int) -> list[float]:
    """Most ideas on the public board, a third on the members board, the rest on private ones."""
    if n == 2:
        return [0.6, 0.4]
    private = 0.15 / (n - 2)
    return [0.55, 0.30] + [private] * (n - 2)


PostRow = tuple[int, int, int, int, str]  # post id, thread id, space id, author id, text


def _pick_posts(
    rng: np.random.Generator, ideas: list[Idea], boards: list[tuple[Board, np.ndarray]]
) -> list[tuple[Idea, PostRow]]:
    """Choose the posts ideas came from, before the ideas are written, and credit their authors."""
    published = Post.objects.filter(state=PostState.PUBLISHED, thread__state=PostState.PUBLISHED)
    columns = ("pk", "thread_id", "thread__space_id", "author_id", "text")
    open_pool: list[PostRow] = list(
        published.filter(thread__space__visibility__in=[Visibility.PUBLIC, Visibility.MEMBERS, Visibility.GROUP])
        .order_by("-pk")
        .values_list(*columns)[:3000]
    )
    account_pool: dict[int, list[PostRow]] = {}
    for b, _ in boards:
        if b.organization_id is not None:
            account_pool[b.pk] = list(
                published.filter(
                    thread__space__visibility=Visibility.ACCOUNT, thread__space__organization_id=b.organization_id
                )
                .order_by("-pk")
                .values_list(*columns)[:300]
            )
    links: list[tuple[Idea, PostRow]] = []
    for idea in ideas:
        pool = account_pool.get(idea.board.pk, open_pool)
        if not pool or rng.random() > LINKED_SHARE:
            continue
        chosen = {int(rng.integers(len(pool))) for _ in range(1 + int(rng.random() < 0.3))}
        for n, index in enumerate(sorted(chosen)):
            row = pool[index]
            if n == 0:
                idea.author_id = row[3]
            links.append((idea, row))
    return links


def _write_links(links: list[tuple[Idea, PostRow]], staff: Member, now: datetime) -> int:
    sources = [
        IdeaSource(
            idea=idea,
            kind=SourceKind.POST,
            post_id=pk,
            thread_id=thread_id,
            space_id=space_id,
            author_id=author_id,
            linked_by=staff,
            excerpt=" ".join((text or "").split())[:299],
            created_at=min(now, idea.created_at + timedelta(minutes=1)),
        )
        for idea, (pk, thread_id, space_id, author_id, text) in links
    ]
    IdeaSource.objects.bulk_create(sources, batch_size=BATCH, ignore_conflicts=True)
    IdeaFollow.objects.bulk_create(
        [IdeaFollow(idea_id=s.idea_id, member_id=s.author_id) for s in sources if s.author_id],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    return len(sources)
