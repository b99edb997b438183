"""The permission gate: every decision about who may see or change what is made here.

Views, API endpoints and the CLI fetch user-supplied ids only through the
``*_for_view`` / ``*_for_change`` functions below, never straight from the ORM. Something
the viewer may not see answers "not found" (404), never "forbidden", so that its
existence does not leak. See docs/access.md for the rules in words.

This module knows the domain models by name only inside functions, so `core` stays
importable before the domain apps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from convenor.core.errors import ApplicationError, ErrorCode, not_found
from convenor.core.models import StaffRole, User

if TYPE_CHECKING:
    from convenor.activity.models import Activity
    from convenor.people.models import Member, Organization, Relationship

AnyUser = User | AnonymousUser

# Who may create and edit people, organisations and relationships.
PEOPLE_EDITORS = frozenset({StaffRole.ADMIN, StaffRole.COMMUNITY_MANAGER, StaffRole.SALES})
# Who may merge members and decide merge suggestions (it rewrites history).
MERGERS = frozenset({StaffRole.ADMIN, StaffRole.COMMUNITY_MANAGER})


def is_authenticated(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_staff(user: AnyUser) -> bool:
    """Any employee with a staff role (admin, community manager, sales, product)."""
    return isinstance(user, User) and user.is_active and bool(user.staff_role)


def has_role(user: AnyUser, roles: frozenset[StaffRole]) -> bool:
    return isinstance(user, User) and user.is_active and user.staff_role in roles


def can_edit_people(user: AnyUser) -> bool:
    return has_role(user, PEOPLE_EDITORS)


def can_merge(user: AnyUser) -> bool:
    return has_role(user, MERGERS)


def require(allowed: bool, what: str = "You may not do this") -> None:
    if not allowed:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, what)


def require_login(user: AnyUser) -> User:
    if not isinstance(user, User) or not is_authenticated(user):
        raise ApplicationError(ErrorCode.NOT_AUTHENTICATED, "Log in first")
    return user


def viewer_member(user: AnyUser) -> Member | None:
    """The member record of a logged-in user, if they have one."""
    from convenor.people.models import Member

    if not isinstance(user, User) or not user.is_authenticated:
        return None
    return Member.objects.filter(user=user).first()


def _viewer_org_ids(member: Member) -> QuerySet[Organization]:
    from convenor.people.models import Organization

    return Organization.objects.filter(affiliations__member=member, affiliations__ended_on__isnull=True)


def visible_members(user: AnyUser) -> QuerySet[Member]:
    """The members `user` may see.

    Staff see everyone. A member sees themselves, our employees, their current
    colleagues, and members who chose to be listed in the community directory.
    Anonymous visitors see nobody.
    """
    from convenor.people.models import Affiliation, Member, Role

    if is_staff(user):
        return Member.objects.all()
    me = viewer_member(user)
    if me is None or not is_authenticated(user):
        return Member.objects.none()
    colleague = Affiliation.objects.filter(
        member=OuterRef("pk"), ended_on__isnull=True, organization__in=_viewer_org_ids(me)
    )
    return Member.objects.filter(Q(pk=me.pk) | Q(role=Role.EMPLOYEE) | Q(listed=True) | Exists(colleague))


def visible_organizations(user: AnyUser) -> QuerySet[Organization]:
    """Staff see every organisation; a member sees our company and their own."""
    from convenor.people.models import Organization, OrgKind

    if is_staff(user):
        return Organization.objects.all()
    me = viewer_member(user)
    if me is None or not is_authenticated(user):
        return Organization.objects.none()
    return Organization.objects.filter(Q(kind=OrgKind.OURS) | Q(pk__in=_viewer_org_ids(me)))


def visible_relationships(user: AnyUser) -> QuerySet[Relationship]:
    """Declared lines whose two ends the viewer can both see."""
    from convenor.people.models import Relationship

    if is_staff(user):
        return Relationship.objects.all()
    members = visible_members(user).values("pk")
    orgs = visible_organizations(user).values("pk")
    return Relationship.objects.filter(
        Q(source_member__in=members) | Q(source_org__in=orgs),
        Q(target_member__in=members) | Q(target_org__in=orgs),
    )


def visible_activities(user: AnyUser) -> QuerySet[Activity]:
    """Staff see the whole log; a member sees what they did and what was done to them.

    Spaces, events and groups widen this as they land (a post in a space you can read).
    """
    from convenor.activity.models import Activity

    if is_staff(user):
        return Activity.objects.all()
    me = viewer_member(user)
    if me is None:
        return Activity.objects.none()
    return Activity.objects.filter(Q(actor=me) | Q(target_member=me))


def member_for_view(user: AnyUser, member_id: int) -> Member:
    """The member with `member_id` if `user` may see them; otherwise NOT_FOUND."""
    member = visible_members(user).filter(pk=member_id).first()
    if member is None:
        raise not_found("No such member")
    return member


def member_for_change(user: AnyUser, member_id: int) -> Member:
    """Staff who edit people may change anyone; a member may change their own profile."""
    member = member_for_view(user, member_id)
    me = viewer_member(user)
    require(can_edit_people(user) or (me is not None and me.pk == member.pk), "You may not edit this member")
    return member


def organization_for_view(user: AnyUser, org_id: int) -> Organization:
    org = visible_organizations(user).filter(pk=org_id).first()
    if org is None:
        raise not_found("No such organisation")
    return org


def organization_for_change(user: AnyUser, org_id: int) -> Organization:
    org = organization_for_view(user, org_id)
    require(can_edit_people(user), "Only staff who manage people may edit organisations")
    return org


def relationship_for_change(user: AnyUser, rel_id: int) -> Relationship:
    rel = visible_relationships(user).filter(pk=rel_id).first()
    if rel is None:
        raise not_found("No such relationship")
    require(can_edit_people(user), "Only staff who manage people may change relationships")
    return rel
