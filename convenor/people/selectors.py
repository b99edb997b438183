"""Reads for people and organisations. Every list starts from what the viewer may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.core.models import User
from convenor.people.models import (
    Affiliation,
    Interest,
    Member,
    MemberMerge,
    MergeSuggestion,
    MergeSuggestionStatus,
    Organization,
    Relationship,
    RelationshipKind,
)


def member_list(
    *,
    viewer: AnyUser,
    q: str = "",
    role: str = "",
    organization_id: int | None = None,
    interest: str = "",
) -> QuerySet[Member]:
    """Members the viewer may see, filtered; ordered by name."""
    qs = access.visible_members(viewer)
    q = q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q) | Q(title__icontains=q))
    if role:
        qs = qs.filter(role=role)
    if organization_id:
        orgs = access.visible_organizations(viewer).filter(pk=organization_id).values("pk")
        qs = qs.filter(affiliations__organization__in=orgs, affiliations__ended_on__isnull=True)
    if interest:
        qs = qs.filter(interests__slug=interest)
    current = Affiliation.objects.filter(ended_on__isnull=True).select_related("organization")
    return (
        qs.distinct()
        .order_by("name", "pk")
        .prefetch_related(Prefetch("affiliations", queryset=current, to_attr="current_affiliations"), "interests")
    )


def organization_list(*, viewer: AnyUser, q: str = "", kind: str = "") -> QuerySet[Organization]:
    qs = access.visible_organizations(viewer)
    if q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(domains__domain__icontains=q.strip()))
    if kind:
        qs = qs.filter(kind=kind)
    return (
        qs.distinct()
        .annotate(people=Count("affiliations", filter=Q(affiliations__ended_on__isnull=True), distinct=True))
        .order_by("name", "pk")
        .prefetch_related("domains")
    )


def relationships_of(
    *,
    viewer: AnyUser,
    member: Member | None = None,
    organization: Organization | None = None,
    kind: str = "",
) -> QuerySet[Relationship]:
    """Declared lines touching `member` or `organization` (of `kind`, if given) that the viewer may see."""
    qs = access.visible_relationships(viewer)
    if kind:
        qs = qs.filter(kind=kind)
    if member is not None:
        qs = qs.filter(Q(source_member=member) | Q(target_member=member))
    if organization is not None:
        qs = qs.filter(Q(source_org=organization) | Q(target_org=organization))
    return qs.select_related("source_member", "source_org", "target_member", "target_org").order_by("kind", "pk")


@dataclass
class OrgNeighbours:
    """An organisation's business neighbourhood, as its page shows it."""

    customers: list[Organization]
    suppliers: list[Organization]
    customers_customers: list[Organization]
    competitors: list[Organization]
    partners: list[Organization]


def _orgs(ids: set[int], viewer: AnyUser) -> list[Organization]:
    return list(access.visible_organizations(viewer).filter(pk__in=ids).order_by("name"))


def organization_neighbours(*, viewer: AnyUser, organization: Organization) -> OrgNeighbours:
    """Customers, suppliers, customers' customers, competitors and partners of `organization`.

    "X customer_of Y" and "Y supplies X" both make X a customer of Y.
    """
    rels = Relationship.objects.filter(source_org__isnull=False, target_org__isnull=False)

    def customers_of(org_ids: set[int]) -> set[int]:
        a = rels.filter(kind=RelationshipKind.CUSTOMER_OF, target_org__in=org_ids).values_list("source_org", flat=True)
        b = rels.filter(kind=RelationshipKind.SUPPLIES, source_org__in=org_ids).values_list("target_org", flat=True)
        return {i for i in (*a, *b) if i is not None}

    me = {organization.pk}
    customers = customers_of(me)
    suppliers = {
        i
        for i in (
            *rels.filter(kind=RelationshipKind.CUSTOMER_OF, source_org=organization).values_list(
                "target_org", flat=True
            ),
            *rels.filter(kind=RelationshipKind.SUPPLIES, target_org=organization).values_list("source_org", flat=True),
        )
        if i is not None
    }

    def symmetric(kind: str) -> set[int]:
        pairs = rels.filter(Q(source_org=organization) | Q(target_org=organization), kind=kind).values_list(
            "source_org", "target_org"
        )
        return {x for pair in pairs for x in pair if x is not None and x != organization.pk}

    return OrgNeighbours(
        customers=_orgs(customers, viewer),
        suppliers=_orgs(suppliers, viewer),
        customers_customers=_orgs(customers_of(customers) - me - customers, viewer),
        competitors=_orgs(symmetric(RelationshipKind.COMPETES_WITH), viewer),
        partners=_orgs(symmetric(RelationshipKind.PARTNER_OF), viewer),
    )


def organization_people(*, viewer: AnyUser, organization: Organization, current: bool = True) -> QuerySet[Affiliation]:
    qs = Affiliation.objects.filter(organization=organization, member__in=access.visible_members(viewer).values("pk"))
    qs = qs.filter(ended_on__isnull=True) if current else qs.filter(ended_on__isnull=False)
    return qs.select_related("member").order_by("member__name")


def member_affiliations(*, member: Member) -> QuerySet[Affiliation]:
    return Affiliation.objects.filter(member=member).select_related("organization").order_by("ended_on", "-started_on")


def member_merges(*, member: Member) -> QuerySet[MemberMerge]:
    return MemberMerge.objects.filter(survivor=member).select_related("merged_by")


def merge_redirect(*, member_id: int) -> int | None:
    """The member a merged-away id now lives on, following chains of merges."""
    seen: set[int] = set()
    current: int | None = None
    target = member_id
    while target not in seen:
        seen.add(target)
        rec = MemberMerge.objects.filter(merged_member_id=target).values_list("survivor_id", flat=True).first()
        if rec is None:
            break
        current = target = rec
    return current


def merge_suggestion_list(*, status: str = MergeSuggestionStatus.OPEN) -> QuerySet[MergeSuggestion]:
    return (
        MergeSuggestion.objects.filter(status=status)
        .select_related("member_a", "member_b")
        .prefetch_related(
            "member_a__identities",
            "member_b__identities",
            "member_a__affiliations__organization",
            "member_b__affiliations__organization",
        )
        .order_by("-created_at", "pk")
    )


def interest_list() -> QuerySet[Interest]:
    return Interest.objects.annotate(n=Count("members")).order_by("-n", "name")


def member_counts_by_role(*, viewer: AnyUser) -> dict[str, int]:
    """How many members of each role the viewer may see."""
    rows = access.visible_members(viewer).values("role").annotate(n=Count("pk")).order_by()
    return {r["role"]: r["n"] for r in rows}


def organization_counts_by_kind(*, viewer: AnyUser) -> dict[str, int]:
    """How many organisations of each kind the viewer may see."""
    rows = access.visible_organizations(viewer).values("kind").annotate(n=Count("pk")).order_by()
    return {r["kind"]: r["n"] for r in rows}


def member_find(*, viewer: AnyUser, email: str) -> Member | None:
    """The visible member whose primary email is `email` (case-insensitive), if any."""
    email = email.strip().lower()
    if not email:
        return None
    return access.visible_members(viewer).filter(email=email).first()


def organization_find(*, viewer: AnyUser, name: str) -> Organization | None:
    """The visible organisation called `name` (case-insensitive), if any."""
    key = name.strip().lower()
    if not key:
        return None
    return access.visible_organizations(viewer).filter(name_key=key).first()


def member_merge_preview(*, member: Member) -> dict[str, int]:
    """What would move to the survivor if `member` were merged into another member."""
    from convenor.activity.models import Activity

    return {
        "identities": member.identities.count(),
        "affiliations": member.affiliations.count(),
        "interests": member.interests.count(),
        "relationships": Relationship.objects.filter(Q(source_member=member) | Q(target_member=member)).count(),
        "activities": Activity.objects.filter(Q(actor=member) | Q(target_member=member)).count(),
    }


def accounts_of(members: Iterable[Member]) -> list[User]:
    """The login accounts of `members`, for notifying them; people without one are skipped."""
    return [m.user for m in members if m.user is not None]
