"""The typed shapes of API requests and responses.

Choice fields use the models' TextChoices, so a bad value is refused with a 422 naming
the field and the allowed values, and the OpenAPI document lists them. Output schemas
read model instances; what a viewer may see of them (a member's email, which
organisations) is decided by convenor.core.access through the request in the context.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal, Self

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Schema
from pydantic import model_validator

from convenor.core import access
from convenor.core.models import Notification, StaffRole
from convenor.people import selectors
from convenor.people.models import (
    Affiliation,
    Member,
    MemberMerge,
    Organization,
    OrgKind,
    Relationship,
    RelationshipKind,
    Role,
)
from convenor.spaces import selectors as space_selectors
from convenor.spaces.models import (
    CharterCheck,
    Frame,
    MembershipState,
    Post,
    PostState,
    ReactionKind,
    Space,
    SpaceMembership,
    SpaceRole,
    Thread,
    ThreadKind,
    Visibility,
)
from convenor.spaces.search import Hit

from .auth import viewer
from .pagination import Page


class ErrorDetail(Schema):
    code: str = Field(description="A stable code; see the table in docs/api.md.")
    message: str
    fields: dict[str, list[str]] = Field(description="Messages per field; empty when none applies.")


class ErrorOut(Schema):
    """The one shape of every error response."""

    error: ErrorDetail


# The error responses every endpoint that reads or writes by id may give, for OpenAPI.
ERRORS: dict[int, type[ErrorOut]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _request(context: Any) -> HttpRequest:
    request = context["request"]
    assert isinstance(request, HttpRequest)
    return request


# --- members -----------------------------------------------------------------------------


class MemberOrganizationOut(Schema):
    id: int
    name: str
    title: str


class MemberOut(Schema):
    id: int
    name: str
    email: str | None = Field(description="Shown to staff and to the member themselves; otherwise null.")
    role: Role
    title: str
    location: str
    interests: list[str]
    organizations: list[MemberOrganizationOut] = Field(description="Current places the viewer may see.")
    consent_to_contact: bool
    listed: bool
    created_at: datetime

    @staticmethod
    def resolve_email(obj: Member, context: Any) -> str | None:
        return obj.email if access.can_see_email(viewer(_request(context)), obj) else None

    @staticmethod
    def resolve_interests(obj: Member) -> list[str]:
        return [i.name for i in obj.interests.all()]

    @staticmethod
    def resolve_organizations(obj: Member, context: Any) -> list[dict[str, Any]]:
        current: list[Affiliation] | None = getattr(obj, "current_affiliations", None)
        if current is None:
            current = [a for a in selectors.member_affiliations(member=obj) if a.ended_on is None]
        visible = _visible_org_ids(_request(context))
        return [
            {"id": a.organization_id, "name": a.organization.name, "title": a.title}
            for a in current
            if visible is None or a.organization_id in visible
        ]


def _visible_org_ids(request: HttpRequest) -> set[int] | None:
    """The organisations the viewer may see, once per request; None means all (staff)."""
    cached: set[int] | bool | None = getattr(request, "_convenor_visible_orgs", False)
    if cached is not False:
        assert cached is None or isinstance(cached, set)
        return cached
    user = viewer(request)
    ids = None if access.is_staff(user) else set(access.visible_organizations(user).values_list("pk", flat=True))
    request._convenor_visible_orgs = ids  # type: ignore[attr-defined]  # a per-request cache
    return ids


class MemberPage(Page):
    items: list[MemberOut]


class MemberFilters(Schema):
    q: str = Field("", description="Part of the name, email or title.")
    role: Role | None = None
    organization: int | None = Field(None, description="Current members of this organisation id.")
    interest: str = Field("", description="An interest slug, such as data-pipelines.")


class MemberIn(Schema):
    name: str
    email: str | None = None
    role: Role = Role.OTHER
    title: str = ""
    bio: str = ""
    location: str = ""
    interests: list[str] = Field(default_factory=list, description="Interest names; new ones are created.")
    consent_to_contact: bool = True
    listed: bool | None = Field(None, description="Listed in the directory; by default only employees are.")
    organization: int | None = Field(None, description="An organisation id for a current place.")


class MemberPatch(Schema):
    """Only the fields sent change. ``"email": null`` or ``""`` removes the email."""

    name: str | None = None
    email: str | None = None
    role: Role | None = None
    title: str | None = None
    bio: str | None = None
    location: str | None = None
    interests: list[str] | None = None
    consent_to_contact: bool | None = None
    listed: bool | None = None


class MergeIn(Schema):
    other_id: int = Field(description="The member merged into the one in the path, then deleted.")


class MergeRecordOut(Schema):
    id: int
    merged_member_id: int
    merged_name: str
    moved: dict[str, int] = Field(description="Rows moved to the survivor, by kind.")
    merged_at: datetime


class MergeOut(Schema):
    survivor: MemberOut
    merge: MergeRecordOut

    @staticmethod
    def resolve_survivor(obj: MemberMerge) -> Member:
        return obj.survivor

    @staticmethod
    def resolve_merge(obj: MemberMerge) -> MemberMerge:
        return obj


# --- organisations -----------------------------------------------------------------------


class OrganizationOut(Schema):
    id: int
    name: str
    kind: OrgKind
    website: str
    description: str
    domains: list[str]
    people: int = Field(description="How many people have a current place here.")
    created_at: datetime

    @staticmethod
    def resolve_domains(obj: Organization) -> list[str]:
        return [d.domain for d in obj.domains.all()]


class OrganizationPage(Page):
    items: list[OrganizationOut]


class OrganizationFilters(Schema):
    q: str = Field("", description="Part of the name or of a domain.")
    kind: OrgKind | None = None


class OrganizationIn(Schema):
    name: str
    kind: OrgKind = OrgKind.OTHER
    website: str = ""
    description: str = ""
    domains: list[str] = Field(default_factory=list, description="Such as acme.com.")


class OrganizationPatch(Schema):
    """Only the fields sent change; ``domains`` replaces the whole list."""

    name: str | None = None
    kind: OrgKind | None = None
    website: str | None = None
    description: str | None = None
    domains: list[str] | None = None


# --- relationships -----------------------------------------------------------------------


class EndIn(Schema):
    """One end of a line: exactly one of ``member`` or ``organization`` (an id)."""

    member: int | None = None
    organization: int | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.member is None) == (self.organization is None):
            raise ValueError("Give exactly one of member or organization")
        return self


class EndOut(Schema):
    type: str = Field(description="member or organization")
    id: int
    name: str


def _end(member: Member | None, org: Organization | None) -> dict[str, Any]:
    if member is not None:
        return {"type": "member", "id": member.pk, "name": member.name}
    assert org is not None
    return {"type": "organization", "id": org.pk, "name": org.name}


class RelationshipOut(Schema):
    id: int
    kind: RelationshipKind
    directed: bool = Field(description="False for kinds that read the same both ways, such as knows.")
    source: EndOut
    target: EndOut
    strength: float
    evidence: str
    started_on: date | None
    ended_on: date | None
    created_at: datetime

    @staticmethod
    def resolve_source(obj: Relationship) -> dict[str, Any]:
        return _end(obj.source_member, obj.source_org)

    @staticmethod
    def resolve_target(obj: Relationship) -> dict[str, Any]:
        return _end(obj.target_member, obj.target_org)


class RelationshipPage(Page):
    items: list[RelationshipOut]


class RelationshipFilters(Schema):
    member: int | None = Field(None, description="Lines touching this member id.")
    organization: int | None = Field(None, description="Lines touching this organisation id.")
    kind: RelationshipKind | None = None


class RelationshipIn(Schema):
    kind: RelationshipKind
    source: EndIn
    target: EndIn
    strength: float = Field(1.0, description="Above 0, at most 100.")
    evidence: str = ""
    started_on: date | None = None
    ended_on: date | None = None


# --- me ----------------------------------------------------------------------------------


class MeOut(Schema):
    id: int
    email: str
    name: str
    staff_role: StaffRole | None = Field(description="null for community members without a staff role.")
    member_id: int | None = Field(description="The user's member record, if any.")


# --- spaces ------------------------------------------------------------------------------


def _cached(request: HttpRequest, name: str, load: Any) -> Any:
    """`load()` once per request, for values every item of a list needs (the viewer's member)."""
    attr = f"_convenor_{name}"
    if not hasattr(request, attr):
        setattr(request, attr, load())
    return getattr(request, attr)


def viewer_member(request: HttpRequest) -> Member | None:
    """The token user's member record, looked up once per request."""
    member: Member | None = _cached(request, "member", lambda: access.viewer_member(viewer(request)))
    return member


def _memberships(request: HttpRequest) -> dict[int, SpaceMembership]:
    found: dict[int, SpaceMembership] = _cached(
        request, "memberships", lambda: space_selectors.memberships_by_space(member=viewer_member(request))
    )
    return found


class MembershipOut(Schema):
    state: MembershipState = Field(description="invited, active, left or removed.")
    role: SpaceRole = Field(description="member or moderator.")


class SpaceOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    frame: Frame = Field(description="community or commercial; show it wherever the space is shown.")
    visibility: Visibility
    organization_id: int | None = Field(description="The customer whose private space this is (account spaces).")
    thread_count: int
    post_count: int
    created_at: datetime
    archived_at: datetime | None
    membership: MembershipOut | None = Field(description="The token user's place in the space; null if none.")

    @staticmethod
    def resolve_membership(obj: Space, context: Any) -> SpaceMembership | None:
        return _memberships(_request(context)).get(obj.pk)


class SpaceDetailOut(SpaceOut):
    charter: str = Field(description="The space's rules in Markdown; community spaces forbid selling.")
    following: bool = Field(description="Whether the token user follows the space.")
    can_moderate: bool = Field(description="Whether the token user may pin, lock and edit here.")

    @staticmethod
    def resolve_following(obj: Space, context: Any) -> bool:
        request = _request(context)
        return space_selectors.is_following(member=viewer_member(request), space=obj)

    @staticmethod
    def resolve_can_moderate(obj: Space, context: Any) -> bool:
        return access.can_moderate(viewer(_request(context)), obj)


class SpacePage(Page):
    items: list[SpaceOut]


class SpaceFilters(Schema):
    q: str = Field("", description="Part of the name or description.")
    frame: Frame | None = None


class SpaceIn(Schema):
    name: str
    frame: Frame = Field(description="Required: community or commercial.")
    visibility: Literal["public", "members"] = Field(
        "members", description="Account spaces are made from an organisation: POST /organizations/{id}/private-space."
    )
    description: str = ""
    charter: str | None = Field(None, description="By default, community spaces get the charter that forbids selling.")


class FollowOut(Schema):
    following: bool


# --- threads and posts -------------------------------------------------------------------


class AuthorOut(Schema):
    id: int
    name: str
    handle: str | None = Field(description="For @mentions; null for people without one.")


class ThreadOut(Schema):
    id: int
    space_id: int
    title: str
    kind: ThreadKind
    author: AuthorOut
    created_at: datetime
    last_post_at: datetime
    pinned: bool
    locked: bool
    needs_staff: bool
    accepted_post_id: int | None
    state: Literal["published", "held", "rejected"] = Field(
        description="A thread whose opening post is held is seen only by its author and the space's moderators."
    )
    reply_count: int
    staff_reply_count: int = Field(description="Replies written by staff.")
    reaction_count: int


class SpaceRefOut(Schema):
    id: int
    name: str
    slug: str
    frame: Frame
    visibility: Visibility


class ReasonOut(Schema):
    phrase: str
    weight: float
    kind: str = Field(description="signal (a named pattern) or phrase (words the model learnt).")
    signal: str
    describe: str


class HoldOut(Schema):
    """Why a post is held by the charter check, as its author sees it."""

    score: float | None = Field(description="The probability of being promotional; null when unchecked.")
    threshold: float = Field(description="The space's threshold: posts scoring at or above it are held.")
    unavailable: bool = Field(description="The check could not run; the post waits for a moderator.")
    reasons: list[ReasonOut] = Field(description="The phrases and signals that drove the score, strongest first.")
    review_requested_at: datetime | None = Field(description="When the author asked a moderator to review it.")
    charter: str = Field(description="The space's charter, which the post was checked against.")


class PostOut(Schema):
    id: int
    thread_id: int
    author: AuthorOut
    by_staff: bool = Field(description="Written by staff: shown with a staff badge.")
    parent_id: int | None = Field(description="The post this one replies to, if not the thread as a whole.")
    body: str = Field(description="Markdown, as written.")
    html: str = Field(description="The body rendered and sanitised: safe to insert into a page.")
    created_at: datetime
    edited_at: datetime | None
    reactions: dict[ReactionKind, int] = Field(
        description="How many reactions of each kind; kinds with none are left out."
    )
    my_reactions: list[ReactionKind] = Field(description="The kinds the token user has given.")
    accepted: bool = Field(description="Whether this is the thread's accepted answer.")
    state: Literal["published", "held", "rejected"] = Field(
        description="Held and rejected posts are seen only by their author and the space's moderators."
    )
    hold: HoldOut | None = Field(
        description="For a held post: why, with the charter and the reasons; null once published. The author "
        "can edit it, ask for a review (POST /posts/{id}/review) or move it (POST /posts/{id}/move)."
    )

    @staticmethod
    def resolve_hold(obj: Post) -> dict[str, Any] | None:
        # Published posts (nearly all) cost no query.
        if obj.state != PostState.HELD:
            return None
        check = CharterCheck.objects.filter(post=obj).first()
        if check is None:
            return None
        return {
            "score": check.score,
            "threshold": check.threshold,
            "unavailable": check.unavailable,
            "reasons": list(check.reasons),
            "review_requested_at": check.review_requested_at,
            "charter": obj.thread.space.charter,
        }

    @staticmethod
    def resolve_reactions(obj: Post) -> dict[str, int]:
        # The thread's post list prefetches reactions; counting them here costs no query.
        counts: dict[str, int] = {}
        for r in obj.reactions.all():
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return counts

    @staticmethod
    def resolve_my_reactions(obj: Post, context: Any) -> list[str]:
        me = viewer_member(_request(context))
        return sorted({r.kind for r in obj.reactions.all() if me is not None and r.member_id == me.pk})

    @staticmethod
    def resolve_accepted(obj: Post) -> bool:
        return obj.thread.accepted_post_id == obj.pk


class PostPage(Page):
    items: list[PostOut]


class ThreadDetailOut(ThreadOut):
    space: SpaceRefOut
    opening_post: PostOut | None = Field(description="The thread's first post.")
    following: bool = Field(description="Whether the token user follows the thread.")
    can_moderate: bool = Field(description="Whether the token user may pin, lock and accept here.")

    @staticmethod
    def resolve_opening_post(obj: Thread) -> Post | None:
        # Whoever may see the thread may see its opening post (held together, by one author).
        return space_selectors.opening_post(thread=obj)

    @staticmethod
    def resolve_following(obj: Thread, context: Any) -> bool:
        return space_selectors.is_following(member=viewer_member(_request(context)), thread=obj)

    @staticmethod
    def resolve_can_moderate(obj: Thread, context: Any) -> bool:
        return access.can_moderate(viewer(_request(context)), obj.space)


class ThreadPage(Page):
    items: list[ThreadOut]


class ThreadFilters(Schema):
    order: Literal["latest", "top", "unanswered"] = Field(
        "latest", description="latest (pinned first, then by last post), top (most reactions), unanswered."
    )


class ThreadIn(Schema):
    title: str
    body: str = Field(description="Markdown; @handle mentions notify people who can read the space.")
    kind: ThreadKind = ThreadKind.DISCUSSION
    needs_staff: bool = Field(False, description="Ask for an answer from staff.")


class ThreadPatch(Schema):
    """Only the fields sent change. Moderators may change all three; the thread's author
    may change ``needs_staff``."""

    pinned: bool | None = None
    locked: bool | None = None
    needs_staff: bool | None = None


class PostIn(Schema):
    body: str = Field(description="Markdown, at most 20,000 characters.")
    parent_id: int | None = Field(None, description="Reply to this post of the same thread.")


class PostPatch(Schema):
    body: str


class AcceptIn(Schema):
    post_id: int = Field(description="A reply in the thread.")


class ReactionIn(Schema):
    kind: ReactionKind


class ReactionOut(Schema):
    on: bool = Field(description="Whether the token user's reaction is there now.")
    count: int = Field(description="How many reactions of this kind the post has now.")


class RevisionOut(Schema):
    id: int
    body: str = Field(description="The text as it was before this edit.")
    edited_by: AuthorOut | None
    replaced_at: datetime


class RevisionPage(Page):
    items: list[RevisionOut]


# --- search ------------------------------------------------------------------------------


class SearchFilters(Schema):
    q: str = Field(description="Words to find; every word must appear, the last may be the start of a word.")
    space: int | None = Field(None, description="Only in this space id.")
    author: int | None = Field(None, description="Only posts by this member id.")


class SearchHitOut(Schema):
    post_id: int
    thread_id: int
    thread_title: str
    space_id: int
    space_name: str
    space_slug: str
    author_id: int
    author_name: str
    created_at: datetime
    snippet_html: str = Field(description="Escaped text around the match, with matches in <mark>.")
    rank: float = Field(description="For ordering only: its scale depends on the database.")

    @staticmethod
    def resolve_created_at(obj: Hit) -> datetime:
        # Raw SQL on SQLite gives a naive datetime (or its text) in UTC.
        value = obj.created_at
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


class SearchPage(Page):
    items: list[SearchHitOut]


# --- notifications -----------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="mention, reply, new_thread, accepted, invited, added, ...")
    title: str
    url: str = Field(description="The page it is about, as a full URL.")
    actor_name: str
    created_at: datetime
    read: bool

    @staticmethod
    def resolve_url(obj: Notification, context: Any) -> str:
        return _request(context).build_absolute_uri(obj.url)

    @staticmethod
    def resolve_read(obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationPage(Page):
    items: list[NotificationOut]


class MarkReadIn(Schema):
    ids: list[int] | None = Field(None, description="Notification ids; all of yours when left out.")


class MarkedOut(Schema):
    marked: int = Field(description="How many were unread and are now read.")


class UnreadOut(Schema):
    unread: int
