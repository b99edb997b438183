"""The typed shapes of API requests and responses.

Choice fields use the models' TextChoices, so a bad value is refused with a 422 naming
the field and the allowed values, and the OpenAPI document lists them. Output schemas
read model instances; what a viewer may see of them (a member's email, which
organisations) is decided by convenor.core.access through the request in the context.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Self

from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import model_validator

from convenor.core import access
from convenor.core.models import StaffRole
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

from .auth import viewer
from .pagination import Page


class ErrorDetail(Schema):
    code: str = Field(description="A stable code; see the table in docs/api.md.")
    message: str
    fields: dict[str, list[str]] = Field(description="Messages per field; empty when none applies.")


class ErrorOut(Schema):
    """The one shape of every error response."""

    error: ErrorDetail


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
