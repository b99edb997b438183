"""Members: list, create, read, change, merge."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from convenor.core import access
from convenor.people import selectors, services
from convenor.people.models import Member, MemberMerge

from .auth import viewer
from .pagination import PageParams, paginate
from .schemas import ERRORS, ErrorOut, MemberFilters, MemberIn, MemberOut, MemberPage, MemberPatch, MergeIn, MergeOut

router = Router(tags=["members"])


@router.get("/members", response={200: MemberPage, 401: ErrorOut, 422: ErrorOut})
def member_list(request: HttpRequest, filters: Query[MemberFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Members the token's user may see, ordered by name."""
    qs = selectors.member_list(
        viewer=viewer(request),
        q=filters.q,
        role=filters.role or "",
        organization_id=filters.organization,
        interest=filters.interest,
    )
    return paginate(request, qs, page)


@router.post("/members", response={201: MemberOut, **ERRORS})
def member_create(request: HttpRequest, payload: MemberIn) -> tuple[int, Member]:
    """Create a member (staff who manage people)."""
    user = viewer(request)
    access.require(access.can_edit_people(user), "Only staff who manage people may create members")
    org = access.organization_for_view(user, payload.organization) if payload.organization else None
    member = services.member_create(
        name=payload.name,
        email=payload.email,
        role=payload.role,
        title=payload.title,
        bio=payload.bio,
        location=payload.location,
        interests=payload.interests,
        consent_to_contact=payload.consent_to_contact,
        listed=payload.listed,
        organization=org,
        actor=user,
    )
    return 201, member


@router.get("/members/{member_id}", response={200: MemberOut, **ERRORS})
def member_detail(request: HttpRequest, member_id: int) -> Member:
    return access.member_for_view(viewer(request), member_id)


@router.patch("/members/{member_id}", response={200: MemberOut, **ERRORS})
def member_update(request: HttpRequest, member_id: int, payload: MemberPatch) -> Member:
    """Change the fields sent. Staff who manage people may change anyone; a member may
    change their own profile, but not their role."""
    user = viewer(request)
    member = access.member_for_change(user, member_id)
    changes = payload.model_dump(exclude_unset=True)
    access.require("role" not in changes or access.can_edit_people(user), "Only staff may change a member's role")
    if "email" in changes and changes["email"] is None:
        changes["email"] = ""  # null removes the email, as "" does
    return services.member_update(member=member, actor=user, **changes)


@router.post("/members/{member_id}/merge", response={200: MergeOut, **ERRORS})
def member_merge(request: HttpRequest, member_id: int, payload: MergeIn) -> MemberMerge:
    """Merge member `other_id` into `member_id`, which survives."""
    user = viewer(request)
    access.require(access.can_merge(user), "Only admins and community managers may merge members")
    survivor = access.member_for_view(user, member_id)
    other = access.member_for_view(user, payload.other_id)
    return services.member_merge(survivor=survivor, merged=other, actor=user)
