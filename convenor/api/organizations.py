"""Organisations: list, create, read, change."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from convenor.core import access
from convenor.people import selectors, services
from convenor.people.models import Organization

from .auth import viewer
from .pagination import PageParams, paginate
from .schemas import (
    ERRORS,
    ErrorOut,
    OrganizationFilters,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
)

router = Router(tags=["organizations"])


def _detail(user: access.AnyUser, org: Organization) -> Organization:
    # The list selector adds the people count and domains.
    return selectors.organization_list(viewer=user).get(pk=org.pk)


@router.get("/organizations", response={200: OrganizationPage, 401: ErrorOut, 422: ErrorOut})
def organization_list(
    request: HttpRequest, filters: Query[OrganizationFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """Organisations the token's user may see, ordered by name."""
    qs = selectors.organization_list(viewer=viewer(request), q=filters.q, kind=filters.kind or "")
    return paginate(request, qs, page)


@router.post("/organizations", response={201: OrganizationOut, **ERRORS})
def organization_create(request: HttpRequest, payload: OrganizationIn) -> tuple[int, Organization]:
    user = viewer(request)
    access.require(access.can_edit_people(user), "Only staff who manage people may create organisations")
    org = services.organization_create(
        name=payload.name,
        kind=payload.kind,
        website=payload.website,
        description=payload.description,
        domains=payload.domains,
        actor=user,
    )
    return 201, _detail(user, org)


@router.get("/organizations/{organization_id}", response={200: OrganizationOut, **ERRORS})
def organization_detail(request: HttpRequest, organization_id: int) -> Organization:
    user = viewer(request)
    return _detail(user, access.organization_for_view(user, organization_id))


@router.patch("/organizations/{organization_id}", response={200: OrganizationOut, **ERRORS})
def organization_update(request: HttpRequest, organization_id: int, payload: OrganizationPatch) -> Organization:
    """Change the fields sent; ``domains`` replaces the list."""
    user = viewer(request)
    org = access.organization_for_change(user, organization_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    services.organization_update(organization=org, actor=user, **changes)
    return _detail(user, org)
