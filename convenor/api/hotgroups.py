"""Hot groups in the JSON API: topics, suggestions (staff), convening, groups, answering
invitations, the facilitator's add and remove, health and word of mouth.

Proposing groups stores suggestions, so it is a POST; running it again proposes other
people (those just proposed are in their cool-down for the same interest). A rule that
cannot be met answers ``validation_error`` (422) with the rule named in the message and
the field at fault; without a map it answers ``conflict`` (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from convenor.core import access
from convenor.core.errors import invalid, not_found
from convenor.hotgroups import selectors, services
from convenor.hotgroups import suggest as suggesting
from convenor.hotgroups.models import Group, Suggestion, SuggestionStatus
from convenor.hotgroups.wom import spread_measure

from .auth import viewer
from .pagination import Page, PageParams, envelope, paginate
from .schemas import ERRORS, ErrorOut

router = Router(tags=["hotgroups"])


class TopicOut(Schema):
    id: int
    label: str = Field(description="The topic's top three terms.")
    interest: str = Field(description="The declared interest it matches, or empty.")
    terms: list[str]
    holders: int = Field(description="People holding it well above their community's average.")
    share: float = Field(description="Its share of everything the community says, attends and votes for.")


class TopicPage(Page):
    items: list[TopicOut]


class SuggestedMemberOut(Schema):
    id: int
    name: str
    email: str | None
    role: str
    organization: str | None
    connector: bool
    interest_ratio: float = Field(description="Their interest as a multiple of their community's average.")


class SuggestionOut(Schema):
    id: int
    interest: str
    topic_id: int
    topic_label: str
    score: float = Field(description="0 to 100: interest, new ties, role mix, connectors.")
    status: str
    explanation: str
    created_at: datetime
    members: list[SuggestedMemberOut]


class SuggestionPage(Page):
    items: list[SuggestionOut]


class SuggestIn(Schema):
    interest: str = Field("", max_length=200, description="An interest in words; empty: across every topic.")
    topic_id: int | None = Field(None, description="A topic's id, instead of `interest`.")
    size: int = Field(suggesting.DEFAULT_SIZE, description=f"{suggesting.MIN_SIZE} to {suggesting.MAX_SIZE}.")
    limit: int = Field(3, description=f"1 to {suggesting.MAX_LIMIT}.")


class SuggestOut(Schema):
    items: list[SuggestionOut]
    skipped: dict[str, str] = Field(description="Interests left out (across every topic), with the rule that failed.")


class SuggestionFilters(Schema):
    topic_id: int | None = None
    status: Literal["open", "convened", "dismissed"] | None = None


class ConveneIn(Schema):
    name: str = Field(max_length=120)
    facilitator_id: int = Field(description="The facilitating employee's member id.")
    first_at: datetime = Field(description="The first gathering, with its UTC offset.")
    recurrence: Literal["weekly", "monthly"] = "monthly"
    interval: int = 1
    count: int = 6
    duration_minutes: int = 90
    place: str = Field("", max_length=300)


class GroupMemberOut(Schema):
    id: int
    name: str
    role: str
    state: str
    facilitator: bool


class GroupOut(Schema):
    id: int
    name: str
    interest: str
    terms: list[str]
    facilitator_id: int
    cadence: str
    state: str
    space_id: int | None
    series_id: int | None
    suggestion_id: int | None
    created_at: datetime


class GroupDetailOut(GroupOut):
    members: list[GroupMemberOut]


class GroupPage(Page):
    items: list[GroupOut]


class MemberIdIn(Schema):
    member_id: int


class MembershipOut(Schema):
    group_id: int
    member_id: int
    state: str


def _suggestion(s: Suggestion) -> dict[str, Any]:
    people = selectors.suggestion_people(s)
    return {
        "id": s.pk,
        "interest": s.topic.interest_name or s.topic.label,
        "topic_id": s.topic_id,
        "topic_label": s.topic.label,
        "score": s.score,
        "status": s.status,
        "explanation": s.explanation,
        "created_at": s.created_at,
        "members": [
            {
                "id": p.member_id,
                "name": p.member.name,
                "email": p.member.email,
                "role": p.role,
                "organization": p.organization.name if p.organization else None,
                "connector": p.connector,
                "interest_ratio": round(p.ratio, 3),
            }
            for p in people
        ],
    }


def _group(g: Group, *, members: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": g.pk,
        "name": g.name,
        "interest": g.topic_label,
        "terms": g.topic_terms,
        "facilitator_id": g.facilitator_id,
        "cadence": g.cadence,
        "state": g.state,
        "space_id": g.space_id,
        "series_id": g.series_id,
        "suggestion_id": g.suggestion_id,
        "created_at": g.created_at,
    }
    if members:
        out["members"] = [
            {
                "id": p.member_id,
                "name": p.member.name,
                "role": p.member.role,
                "state": p.state,
                "facilitator": p.facilitator,
            }
            for p in selectors.group_people(g)
        ]
    return out


def _staff(request: HttpRequest) -> Any:
    """The staff viewer; anyone else gets 404, as for a suggestion itself, the map and listening."""
    user = viewer(request)
    if not access.can_see_suggestions(user):
        raise not_found()
    return user


@router.get("/hotgroups/topics", response={200: TopicPage, **ERRORS})
def topic_list(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """The topics found in the community's text, most held first (staff)."""
    _staff(request)
    items = [
        {
            "id": t.pk,
            "label": t.label,
            "interest": t.interest_name,
            "terms": t.terms,
            "holders": t.holders,
            "share": round(t.share, 5),
        }
        for t in selectors.topics()
    ]
    start = (page.page - 1) * page.page_size
    return envelope(request, items[start : start + page.page_size], len(items), page)


@router.get("/hotgroups/suggestions", response={200: SuggestionPage, **ERRORS})
def suggestion_list(request: HttpRequest, filters: Query[SuggestionFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Stored suggestions, newest first (staff)."""
    _staff(request)
    qs = selectors.suggestion_list(topic_id=filters.topic_id, status=filters.status or "")
    out = paginate(request, qs, page)
    out["items"] = [_suggestion(s) for s in out["items"]]
    return out


@router.post("/hotgroups/suggestions", response={201: SuggestOut, **ERRORS})
def suggestion_create(request: HttpRequest, payload: SuggestIn) -> tuple[int, dict[str, Any]]:
    """Propose and store groups for one interest, or across every topic (admins and community managers)."""
    user = _staff(request)
    access.require(access.can_convene(user), "Only admins and community managers propose groups")
    topic = None
    if payload.topic_id is not None:
        topic = selectors.topics().filter(pk=payload.topic_id).first()
        if topic is None:
            raise invalid(f"No current topic {payload.topic_id}", topic_id="not a current topic")
    done = services.suggestions_create(
        interest=payload.interest,
        topic=topic,
        size=payload.size,
        limit=payload.limit,
        by=access.viewer_member(user),
    )
    return 201, {"items": [_suggestion(s) for s in done.suggestions], "skipped": done.skipped}


@router.get("/hotgroups/suggestions/{suggestion_id}", response={200: SuggestionOut, **ERRORS})
def suggestion_detail(request: HttpRequest, suggestion_id: int) -> dict[str, Any]:
    return _suggestion(access.suggestion_for_view(viewer(request), suggestion_id))


@router.post("/hotgroups/suggestions/{suggestion_id}/convene", response={201: GroupDetailOut, **ERRORS})
def suggestion_convene(request: HttpRequest, suggestion_id: int, payload: ConveneIn) -> tuple[int, dict[str, Any]]:
    """Convene a suggestion: its space, recurring gatherings, invitations and facilitator."""
    user = viewer(request)
    sug = access.suggestion_for_view(user, suggestion_id)
    access.require(access.can_convene(user), "Only admins and community managers convene groups")
    facilitator = access.member_for_view(user, payload.facilitator_id)
    group = services.group_convene(
        suggestion=sug,
        name=payload.name,
        facilitator=facilitator,
        first_at=payload.first_at,
        recurrence=payload.recurrence,
        interval=payload.interval,
        count=payload.count,
        duration_minutes=payload.duration_minutes,
        place=payload.place,
        by=access.viewer_member(user),
        actor=user,
    )
    return 201, _group(group, members=True)


@router.get("/hotgroups/groups", response={200: GroupPage, **ERRORS})
def group_list(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Groups the token's user may see: staff all, members their own, newest first."""
    qs = access.visible_groups(viewer(request)).order_by("-created_at", "-id")
    out = paginate(request, qs, page)
    out["items"] = [_group(g) for g in out["items"]]
    return out


@router.get("/hotgroups/groups/{group_id}", response={200: GroupDetailOut, **ERRORS})
def group_detail(request: HttpRequest, group_id: int) -> dict[str, Any]:
    return _group(access.group_for_view(viewer(request), group_id), members=True)


def _me(request: HttpRequest, group_id: int) -> tuple[Group, Any]:
    user = viewer(request)
    group = access.group_for_view(user, group_id)
    me = access.viewer_member(user)
    if me is None:
        raise invalid("Your account has no member profile", member="none")
    return group, me


def _membership(gm: Any) -> dict[str, Any]:
    return {"group_id": gm.group_id, "member_id": gm.member_id, "state": gm.state}


@router.post("/hotgroups/groups/{group_id}/accept", response={200: MembershipOut, **ERRORS})
def group_accept(request: HttpRequest, group_id: int) -> dict[str, Any]:
    """Accept an invitation: join the space and register for the upcoming gatherings."""
    group, me = _me(request, group_id)
    return _membership(services.group_respond(group=group, member=me, accept=True))


@router.post("/hotgroups/groups/{group_id}/decline", response={200: MembershipOut, **ERRORS})
def group_decline(request: HttpRequest, group_id: int) -> dict[str, Any]:
    group, me = _me(request, group_id)
    return _membership(services.group_respond(group=group, member=me, accept=False))


@router.post("/hotgroups/groups/{group_id}/leave", response={200: MembershipOut, **ERRORS})
def group_leave(request: HttpRequest, group_id: int) -> dict[str, Any]:
    group, me = _me(request, group_id)
    return _membership(services.group_leave(group=group, member=me))


@router.post("/hotgroups/groups/{group_id}/members", response={201: MembershipOut, **ERRORS})
def group_member_add(request: HttpRequest, group_id: int, payload: MemberIdIn) -> tuple[int, dict[str, Any]]:
    """The facilitator invites someone more."""
    user = viewer(request)
    group = access.group_for_change(user, group_id)
    member = access.member_for_view(user, payload.member_id)
    by = access.viewer_member(user) or group.facilitator
    return 201, _membership(services.group_add(group=group, member=member, by=by, actor=user))


@router.delete("/hotgroups/groups/{group_id}/members/{member_id}", response={200: MembershipOut, **ERRORS})
def group_member_remove(request: HttpRequest, group_id: int, member_id: int) -> dict[str, Any]:
    user = viewer(request)
    group = access.group_for_change(user, group_id)
    member = access.member_for_view(user, member_id)
    return _membership(services.group_remove(group=group, member=member, actor=user))


@router.get("/hotgroups/groups/{group_id}/health", response={200: dict[str, Any], 401: ErrorOut, 404: ErrorOut})
def group_health(request: HttpRequest, group_id: int) -> dict[str, Any]:
    """Attendance per gathering, posts per week in the space, new ties, and word of mouth."""
    group = access.group_for_view(viewer(request), group_id)
    return selectors.group_health(group).as_dict()


@router.post("/hotgroups/groups/{group_id}/spread", response={200: dict[str, Any], **ERRORS})
def group_spread(request: HttpRequest, group_id: int) -> dict[str, Any]:
    """Measure (again) word of mouth after each past gathering (the facilitator)."""
    group = access.group_for_change(viewer(request), group_id)
    spread_measure(group=group)
    return selectors.group_health(group).as_dict()


__all__ = ["SuggestionStatus", "router"]
