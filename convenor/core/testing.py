"""The shared small world that tests are written against.

An admin employee, a customer at Acme, a customer at Globex (Acme's competitor), and an
outsider with an account but no organisation. Tests reach it through the ``world``
fixture (conftest.py) and log in as any of them with ``PASSWORD``.
"""

from __future__ import annotations

from dataclasses import dataclass

from convenor.core.models import StaffRole, User
from convenor.people.models import Member, Organization, OrgKind, RelationshipKind, Role
from convenor.people.services import (
    account_create,
    member_create,
    organization_create,
    our_company,
    relationship_create,
)

PASSWORD = "correct-horse-battery"  # noqa: S105  # the test world's shared password


@dataclass
class World:
    ours: Organization
    acme: Organization
    globex: Organization
    admin: User
    admin_member: Member
    acme_user: User
    acme_member: Member
    globex_user: User
    globex_member: Member
    outsider: User
    outsider_member: Member


def build_world() -> World:
    ours = our_company()
    acme = organization_create(name="Acme", kind=OrgKind.CUSTOMER, domains=["acme.example"])
    globex = organization_create(name="Globex", kind=OrgKind.CUSTOMER, domains=["globex.example"])
    relationship_create(kind=RelationshipKind.COMPETES_WITH, source=acme, target=globex)
    relationship_create(kind=RelationshipKind.CUSTOMER_OF, source=acme, target=ours)
    relationship_create(kind=RelationshipKind.CUSTOMER_OF, source=globex, target=ours)

    admin = account_create(
        email="admin@northwind.example", password=PASSWORD, name="Ada Admin", staff_role=StaffRole.ADMIN
    )
    acme_member = member_create(
        name="Carla Acme",
        email="carla@acme.example",
        role=Role.CUSTOMER,
        organization=acme,
        title="Data engineer",
    )
    acme_user = account_create(email="carla@acme.example", password=PASSWORD)
    globex_member = member_create(
        name="Gus Globex", email="gus@globex.example", role=Role.CUSTOMER, organization=globex, title="CTO"
    )
    globex_user = account_create(email="gus@globex.example", password=PASSWORD)
    outsider_member = member_create(name="Olive Outsider", email="olive@elsewhere.example", role=Role.OTHER)
    outsider = account_create(email="olive@elsewhere.example", password=PASSWORD)
    return World(
        ours=ours,
        acme=acme,
        globex=globex,
        admin=admin,
        admin_member=Member.objects.get(user=admin),
        acme_user=acme_user,
        acme_member=Member.objects.get(pk=acme_member.pk),
        globex_user=globex_user,
        globex_member=Member.objects.get(pk=globex_member.pk),
        outsider=outsider,
        outsider_member=Member.objects.get(pk=outsider_member.pk),
    )
