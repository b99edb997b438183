"""Spaces: list, create, read, join, leave, follow; a customer's private space."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from convenor.core import access
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import User
from convenor.people.models import Member
from convenor.spaces import selectors, services
from convenor.spaces.models import Space

from .auth import viewer
from .pagination import PageParams, paginate
from .schemas import ERRORS, ErrorOut, FollowOut, SpaceDetailOut, SpaceFilters, SpaceIn, SpacePage

router = Router(tags=["spaces"])


def member_of(user: User) -> Member:
    """The token user's member record; joining, posting and reacting need one."""
    member = access.viewer_member(user)
    if member is None:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Your account has no member profile")
    return member


@router.get("/spaces", response={200: SpacePage, 401: ErrorOut, 422: ErrorOut})
def space_list(request: HttpRequest, filters: Query[SpaceFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Spaces the token's user may read (archived ones left out), ordered by name."""
    qs = selectors.space_list(viewer=viewer(request), q=filters.q, frame=filters.frame or "")
    return paginate(request, qs.order_by("name", "pk"), page)


@router.post("/spaces", response={201: SpaceDetailOut, **ERRORS})
def space_create(request: HttpRequest, payload: SpaceIn) -> tuple[int, Space]:
    """Create a public or members space (admins and community managers); the creator moderates it."""
    user = viewer(request)
    access.require(access.can_create_spaces(user), "Only admins and community managers may create spaces")
    space = services.space_create(
        name=payload.name,
        frame=payload.frame,
        visibility=payload.visibility,
        description=payload.description,
        charter=payload.charter,
        creator=access.viewer_member(user),
        actor=user,
    )
    return 201, space


@router.post("/organizations/{organization_id}/private-space", response={201: SpaceDetailOut, **ERRORS})
def account_space_create(request: HttpRequest, organization_id: int) -> tuple[int, Space]:
    """Create a customer's private space in one step and invite its current people."""
    user = viewer(request)
    access.require(access.can_create_spaces(user), "Only admins and community managers may create spaces")
    org = access.organization_for_view(user, organization_id)
    return 201, services.account_space_create(organization=org, creator=member_of(user), actor=user)


@router.get("/spaces/{space_id}", response={200: SpaceDetailOut, **ERRORS})
def space_detail(request: HttpRequest, space_id: int) -> Space:
    return access.space_for_view(viewer(request), space_id)


@router.post("/spaces/{space_id}/join", response={200: SpaceDetailOut, **ERRORS})
def space_join(request: HttpRequest, space_id: int) -> Space:
    """Join the space, or accept an invitation to it; joining follows it too."""
    user = viewer(request)
    space = access.space_for_view(user, space_id)
    services.space_join(space=space, member=member_of(user))
    return space


@router.post("/spaces/{space_id}/leave", response={200: SpaceDetailOut, **ERRORS})
def space_leave(request: HttpRequest, space_id: int) -> Space:
    """Leave the space: no more posting there, and no more notifications from it."""
    user = viewer(request)
    space = access.space_for_view(user, space_id)
    services.space_leave(space=space, member=member_of(user))
    return space


@router.post("/spaces/{space_id}/follow", response={200: FollowOut, **ERRORS})
def space_follow(request: HttpRequest, space_id: int) -> dict[str, bool]:
    user = viewer(request)
    space = access.space_for_view(user, space_id)
    return {"following": services.follow_set(member=member_of(user), on=True, space=space)}


@router.delete("/spaces/{space_id}/follow", response={200: FollowOut, **ERRORS})
def space_unfollow(request: HttpRequest, space_id: int) -> dict[str, bool]:
    user = viewer(request)
    space = access.space_for_view(user, space_id)
    return {"following": services.follow_set(member=member_of(user), on=False, space=space)}
