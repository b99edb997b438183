"""Declared relationships: list, create, read, delete."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from convenor.core import access
from convenor.people import selectors, services
from convenor.people.models import Member, Organization, Relationship

from .auth import viewer
from .pagination import PageParams, paginate
from .schemas import ERRORS, EndIn, ErrorOut, RelationshipFilters, RelationshipIn, RelationshipOut, RelationshipPage

router = Router(tags=["relationships"])


def _end(user: access.AnyUser, end: EndIn) -> Member | Organization:
    if end.member is not None:
        return access.member_for_view(user, end.member)
    assert end.organization is not None  # EndIn requires exactly one
    return access.organization_for_view(user, end.organization)


@router.get("/relationships", response={200: RelationshipPage, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def relationship_list(
    request: HttpRequest, filters: Query[RelationshipFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """Lines whose two ends the token's user may see. A member or organisation filter the
    user may not see answers 404."""
    user = viewer(request)
    qs = selectors.relationships_of(
        viewer=user,
        member=access.member_for_view(user, filters.member) if filters.member else None,
        organization=access.organization_for_view(user, filters.organization) if filters.organization else None,
        kind=filters.kind or "",
    )
    return paginate(request, qs, page)


@router.post("/relationships", response={201: RelationshipOut, **ERRORS})
def relationship_create(request: HttpRequest, payload: RelationshipIn) -> tuple[int, Relationship]:
    """Declare a line; the same line twice is 409 duplicate (either way round for
    symmetric kinds)."""
    user = viewer(request)
    access.require(access.can_edit_people(user), "Only staff who manage people may add relationships")
    rel = services.relationship_create(
        kind=payload.kind,
        source=_end(user, payload.source),
        target=_end(user, payload.target),
        strength=payload.strength,
        evidence=payload.evidence,
        started_on=payload.started_on,
        ended_on=payload.ended_on,
        actor=user,
    )
    return 201, rel


@router.get("/relationships/{relationship_id}", response={200: RelationshipOut, **ERRORS})
def relationship_detail(request: HttpRequest, relationship_id: int) -> Relationship:
    return access.relationship_for_view(viewer(request), relationship_id)


@router.delete("/relationships/{relationship_id}", response={204: None, **ERRORS})
def relationship_delete(request: HttpRequest, relationship_id: int) -> tuple[int, None]:
    user = viewer(request)
    services.relationship_delete(relationship=access.relationship_for_change(user, relationship_id), actor=user)
    return 204, None
