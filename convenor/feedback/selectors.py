"""Reads for boards, ideas, the roadmap, the changelog and the demand view.

Every list starts from the permission gate (core/access.py), so an idea on a board the
viewer cannot read never shows up in a list, a search, the roadmap, the changelog or the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, FloatField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.feedback.models import (
    Board,
    BoardVisibility,
    Idea,
    IdeaComment,
    IdeaSource,
    IdeaStatus,
    SourceKind,
    StatusChange,
    Vote,
)
from convenor.listening import selectors as listening_selectors
from convenor.listening.models import OUTSIDE_POST, OutsidePost
from convenor.people.models import Affiliation, Member, OrgKind
from convenor.spaces.models import MembershipState, Post, SpaceMembership, Visibility

SORTS = ("top", "new", "trending")
TRENDING_DAYS = 14
ROADMAP_STATUSES = (IdeaStatus.UNDER_REVIEW, IdeaStatus.PLANNED, IdeaStatus.IN_PROGRESS, IdeaStatus.SHIPPED)


def board_list(*, viewer: AnyUser) -> QuerySet[Board]:
    return access.visible_boards(viewer).select_related("organization").order_by("name")


def idea_list(
    *,
    viewer: AnyUser,
    board: Board | None = None,
    sort: str = "top",
    q: str = "",
    status: str = "",
    include_merged: bool = False,
) -> QuerySet[Idea]:
    """Ideas the viewer may see, on one board or all, sorted top (votes), new, or trending
    (votes in the last two weeks), searched by words in the title or description."""
    ideas = access.visible_ideas(viewer).select_related("board", "author")
    if board is not None:
        ideas = ideas.filter(board=board)
    if not include_merged:
        ideas = ideas.filter(merged_into__isnull=True)
    if status:
        ideas = ideas.filter(status=status)
    for word in q.split()[:8]:
        ideas = ideas.filter(Q(title__icontains=word) | Q(description__icontains=word))
    if sort == "new":
        return ideas.order_by("-created_at", "-pk")
    if sort == "trending":
        since = timezone.now() - timedelta(days=TRENDING_DAYS)
        return ideas.annotate(recent=Count("votes", filter=Q(votes__created_at__gte=since))).order_by(
            "-recent", "-vote_count", "-pk"
        )
    return ideas.order_by("-vote_count", "-created_at", "-pk")


def vote_of(*, idea: Idea, member: Member | None) -> Vote | None:
    if member is None:
        return None
    return Vote.objects.filter(idea=idea, member=member).first()


def voted_ids(*, member: Member | None, idea_ids: list[int]) -> set[int]:
    """Which of `idea_ids` `member` voted for: one query for a whole list."""
    if member is None or not idea_ids:
        return set()
    return set(Vote.objects.filter(member=member, idea_id__in=idea_ids).values_list("idea_id", flat=True))


def is_following(*, idea: Idea, member: Member | None) -> bool:
    return member is not None and idea.follows.filter(member=member).exists()


def idea_comments(*, idea: Idea) -> QuerySet[IdeaComment]:
    return idea.comments.select_related("author").order_by("created_at", "pk")


def status_history(*, idea: Idea) -> QuerySet[StatusChange]:
    return idea.status_changes.select_related("by").order_by("-created_at", "-pk")


def idea_sources(*, idea: Idea, viewer: AnyUser) -> list[IdeaSource]:
    """Where the idea came from, as far as the viewer may see: posts they can read, and (for
    staff) activities from outside conduits."""
    sources = list(
        idea.sources.select_related("post", "thread", "space", "author", "activity").order_by("created_at", "pk")
    )
    post_ids = [s.post_id for s in sources if s.post_id is not None]
    readable = set(access.visible_posts(viewer).filter(pk__in=post_ids).values_list("pk", flat=True))
    staff = access.is_staff(viewer)
    return [
        s
        for s in sources
        if (s.kind == SourceKind.POST and s.post_id in readable) or (s.kind == SourceKind.ACTIVITY and staff)
    ]


def outside_origins(sources: list[IdeaSource]) -> dict[int, OutsidePost]:
    """The outside posts that `sources` (links to imported activities) record, by the link's
    id, with their source and author: one query. A post deleted since (its source removed)
    is simply missing; the link keeps its conduit and excerpt."""
    post_of = {
        s.pk: s.activity.object_id
        for s in sources
        if s.activity is not None and s.activity.object_kind == OUTSIDE_POST and s.activity.object_id is not None
    }
    posts = listening_selectors.outside_posts_by_id(list(set(post_of.values())))
    return {pk: posts[post_id] for pk, post_id in post_of.items() if post_id in posts}


def ideas_for_outside_posts(*, viewer: AnyUser, post_ids: list[int]) -> dict[int, list[Idea]]:
    """The ideas (that the viewer may see) each of `post_ids` is linked to: one query for a page."""
    if not post_ids:
        return {}
    rows = (
        IdeaSource.objects.filter(
            kind=SourceKind.ACTIVITY,
            activity__object_kind=OUTSIDE_POST,
            activity__object_id__in=post_ids,
            idea__in=access.visible_ideas(viewer).values("pk"),
        )
        .select_related("idea", "activity")
        .order_by("pk")
    )
    out: dict[int, list[Idea]] = {}
    for s in rows:
        if s.activity is not None and s.activity.object_id is not None:
            out.setdefault(int(s.activity.object_id), []).append(s.idea)
    return out


def merged_ideas(*, viewer: AnyUser, idea: Idea) -> QuerySet[Idea]:
    """The ideas merged into `idea` that `viewer` may read: a private account board's idea
    merged into a public one stays unnamed to everyone outside that account."""
    return access.visible_ideas(viewer).filter(merged_into=idea).order_by("pk")


def merge_targets(*, viewer: AnyUser, idea: Idea, q: str = "") -> QuerySet[Idea]:
    """Ideas `idea` could be merged into, as a staff member picks them (same board first)."""
    ideas = idea_list(viewer=viewer, q=q).exclude(pk=idea.pk)
    return ideas.order_by("-vote_count", "-pk")


def roadmap(*, viewer: AnyUser, board: Board | None = None, per_column: int = 30) -> list[tuple[str, str, list[Idea]]]:
    """The roadmap: ideas under review, planned, in progress and recently shipped, by status."""
    ideas = idea_list(viewer=viewer, board=board)
    columns = []
    for status in ROADMAP_STATUSES:
        col = ideas.filter(status=status)
        col = col.order_by("-shipped_at", "-pk") if status == IdeaStatus.SHIPPED else col.order_by("-vote_count", "-pk")
        columns.append((str(status), IdeaStatus(status).label, list(col[:per_column])))
    return columns


def changelog(*, viewer: AnyUser | None = None, public_only: bool = False) -> QuerySet[Idea]:
    """Shipped ideas, latest first: the viewer's boards, or only public boards (the RSS feed)."""
    if public_only or viewer is None:
        ideas = Idea.objects.filter(board__visibility=BoardVisibility.PUBLIC)
    else:
        ideas = access.visible_ideas(viewer)
    return (
        ideas.filter(status=IdeaStatus.SHIPPED, merged_into__isnull=True, shipped_at__isnull=False)
        .select_related("board", "author")
        .order_by("-shipped_at", "-pk")
    )


def thread_ideas(*, viewer: AnyUser, thread_id: int) -> dict[int, list[Idea]]:
    """Ideas linked to the posts of one thread that `viewer` may see, keyed by post id.

    Read on every logged-in view of a thread page, and most threads have no idea: so first
    the thread's links alone (one indexed query), and only if there are any, which of their
    boards the viewer may read (access.visible_boards, the rule visible_ideas applies)."""
    rows = list(
        IdeaSource.objects.filter(thread_id=thread_id, post__isnull=False)
        .select_related("idea")
        .only(
            "post_id",
            "idea__id",
            "idea__board_id",
            "idea__title",
            "idea__status",
            "idea__vote_count",
            "idea__merged_into_id",
        )
        .order_by("pk")
    )
    if not rows:
        return {}
    boards = set(
        access.visible_boards(viewer).filter(pk__in={s.idea.board_id for s in rows}).values_list("pk", flat=True)
    )
    out: dict[int, list[Idea]] = {}
    for s in rows:
        if s.post_id is not None and s.idea.board_id in boards:
            out.setdefault(s.post_id, []).append(s.idea)
    return out


def post_choices_for(*, viewer: AnyUser, post: Post) -> QuerySet[Board]:
    """The boards a post can become an idea on, for this viewer."""
    return access.visible_boards(viewer).order_by("name")


# --- demand ---------------------------------------------------------------------------------


@dataclass
class DemandFilters:
    role: str = ""
    organization_id: int | None = None
    segment: str = ""
    group_space_id: int | None = None
    account_id: int | None = None
    board_id: int | None = None
    status: str = ""


@dataclass
class DemandRow:
    idea: Idea
    votes: int
    weight: float
    critical: int
    spaces: list[str] = field(default_factory=list)
    conduits: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)


def _voter_weight() -> Coalesce:
    """A voter's weight: the highest demand weight of the customer organisations they are at now
    (1 when they are at none)."""
    weights = (
        Affiliation.objects.filter(member=OuterRef("member"), ended_on__isnull=True)
        .exclude(organization__kind=OrgKind.OURS)
        .order_by()
        .values("member")
        .annotate(w=Max("organization__demand_weight"))
        .values("w")
    )
    return Coalesce(Subquery(weights, output_field=FloatField()), Value(1.0), output_field=FloatField())


def _filtered_votes(f: DemandFilters) -> QuerySet[Vote]:
    votes = Vote.objects.all()
    if f.role:
        votes = votes.filter(member__role=f.role)
    current = Affiliation.objects.filter(ended_on__isnull=True)
    if f.organization_id:
        votes = votes.filter(member__in=current.filter(organization_id=f.organization_id).values("member"))
    if f.segment:
        votes = votes.filter(member__in=current.filter(organization__industry=f.segment).values("member"))
    if f.group_space_id:
        votes = votes.filter(
            member__in=SpaceMembership.objects.filter(space_id=f.group_space_id, state=MembershipState.ACTIVE).values(
                "member"
            )
        )
    return votes


def demand(*, viewer: AnyUser, filters: DemandFilters, limit: int = 100) -> list[DemandRow]:
    """Ideas ranked by the weight of their voters' organisations, then by votes, counting only
    the votes that pass the filters (role, organisation, segment, hot group). The private
    account filter keeps ideas on that account's board or raised in its private space.
    Each row says where the idea came from: spaces, outside conduits, groups. Raises
    ApplicationError(NOT_FOUND) for anyone not on staff (NOT_AUTHENTICATED for a visitor)."""
    access.require_demand(viewer)
    ideas = access.visible_ideas(viewer).filter(merged_into__isnull=True)
    if f_board := filters.board_id:
        ideas = ideas.filter(board_id=f_board)
    if filters.status:
        ideas = ideas.filter(status=filters.status)
    if filters.account_id:
        raised = IdeaSource.objects.filter(
            space__visibility=Visibility.ACCOUNT, space__organization_id=filters.account_id
        ).values("idea")
        ideas = ideas.filter(Q(board__organization_id=filters.account_id) | Q(pk__in=raised))
    if filters.group_space_id:
        in_group = IdeaSource.objects.filter(space_id=filters.group_space_id).values("idea")
        voted_in_group = _filtered_votes(DemandFilters(group_space_id=filters.group_space_id)).values("idea")
        ideas = ideas.filter(Q(pk__in=in_group) | Q(pk__in=voted_in_group))
    votes = (
        _filtered_votes(filters)
        .filter(idea__in=ideas.values("pk"))
        .order_by()
        .values("idea_id")
        .annotate(n=Count("pk"), w=Sum(_voter_weight()), critical=Count("pk", filter=Q(importance=3)))
        .order_by("-w", "-n", "-idea_id")
    )
    ranked = list(votes[:limit])
    by_id = {i.pk: i for i in ideas.filter(pk__in=[r["idea_id"] for r in ranked]).select_related("board")}
    rows = [
        DemandRow(idea=by_id[r["idea_id"]], votes=r["n"], weight=round(float(r["w"] or 0), 2), critical=r["critical"])
        for r in ranked
        if r["idea_id"] in by_id
    ]
    _where_from(rows)
    return rows


def _where_from(rows: list[DemandRow]) -> None:
    """Fill in each row's spaces, conduits, groups and voters' organisations: five queries."""
    ids = [r.idea.pk for r in rows]
    index = {r.idea.pk: r for r in rows}
    sources = list(IdeaSource.objects.filter(idea_id__in=ids).select_related("space").order_by("pk"))
    # Outside conduits by their source's name ("Data community Slack"), or by the log's key
    # when the source is gone.
    names = listening_selectors.source_names(sorted({s.conduit for s in sources if s.conduit}))
    for s in sources:
        row = index[s.idea_id]
        conduit = names.get(s.conduit, s.conduit)
        if s.kind == SourceKind.ACTIVITY and conduit and conduit not in row.conduits:
            row.conduits.append(conduit)
        if s.space is not None:
            target = row.groups if s.space.visibility == Visibility.GROUP else row.spaces
            if s.space.name not in target:
                target.append(s.space.name)
    orgs = (
        Vote.objects.filter(idea_id__in=ids, member__affiliations__ended_on__isnull=True)
        .exclude(member__affiliations__organization__kind=OrgKind.OURS)
        .values("idea_id", "member__affiliations__organization__name")
        .annotate(n=Count("pk"))
        .order_by("idea_id", "-n")
    )
    for o in orgs:
        row = index[o["idea_id"]]
        if len(row.organizations) < 5:
            row.organizations.append(o["member__affiliations__organization__name"])


def segments() -> list[str]:
    from convenor.people.models import Organization

    return list(
        Organization.objects.exclude(industry="").order_by("industry").values_list("industry", flat=True).distinct()
    )


def group_spaces(*, viewer: AnyUser) -> list[tuple[int, str]]:
    return list(
        access.visible_spaces(viewer).filter(visibility=Visibility.GROUP).order_by("name").values_list("pk", "name")
    )


def account_choices(*, viewer: AnyUser) -> list[tuple[int, str]]:

    with_board = Board.objects.filter(visibility=BoardVisibility.ACCOUNT).values("organization")
    with_space = access.visible_spaces(viewer).filter(visibility=Visibility.ACCOUNT).values("organization")
    return list(
        access.visible_organizations(viewer)
        .filter(Q(pk__in=with_board) | Q(pk__in=with_space))
        .order_by("name")
        .values_list("pk", "name")
    )
