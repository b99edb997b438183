from __future__ import annotations

import hashlib
from statistics import median

import numpy as np
import pytest
from django.contrib.auth import authenticate
from django.db.models import Count, Q

from convenor.activity.models import Activity
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import StaffRole, User
from convenor.people.demo import DEMO_PASSWORD, DEMO_SOURCE, _ordered, build_demo
from convenor.people.models import (
    SYMMETRIC_KINDS,
    Affiliation,
    Identity,
    Interest,
    Member,
    Organization,
    OrgKind,
    Relationship,
    RelationshipKind,
    Role,
)
from convenor.people.services import member_create, organization_create

pytestmark = pytest.mark.django_db

SIZE = 200


def _digest() -> str:
    h = hashlib.sha256()
    for row in Member.objects.order_by("email").values_list("name", "email", "title", "role"):
        h.update(repr(row).encode())
    for org_row in Organization.objects.order_by("name").values_list("name", "kind"):
        h.update(repr(org_row).encode())
    h.update(str(Relationship.objects.count()).encode())
    h.update(str(Activity.objects.count()).encode())
    return h.hexdigest()


def test_demo_builds_the_expected_mix() -> None:
    result = build_demo(members=SIZE, seed=1, steps=False)

    assert result.built
    assert Member.objects.count() == SIZE
    kinds = set(Organization.objects.values_list("kind", flat=True))
    assert kinds == {k.value for k in OrgKind} - {OrgKind.OTHER}
    assert set(Member.objects.values_list("role", flat=True)) == {r.value for r in Role}
    # Our company is the one from settings, with its employees.
    ours = Organization.objects.get(kind=OrgKind.OURS)
    assert ours.name == "Northwind Systems"
    assert ours.domains.filter(domain="northwind.example").exists()
    assert Affiliation.objects.filter(organization=ours, member__role=Role.EMPLOYEE).count() >= 6

    # Every member has a unique email on their organisation's domain and a current place.
    emails = list(Member.objects.values_list("email", flat=True))
    assert all(emails) and len(set(emails)) == SIZE
    assert not Member.objects.filter(affiliations__isnull=True).exists()
    assert Affiliation.objects.filter(ended_on__isnull=True).count() == SIZE
    assert Affiliation.objects.filter(ended_on__isnull=False).exists()

    # Competitors compete with us and with each other; customers are customers of us.
    competes = Relationship.objects.filter(kind=RelationshipKind.COMPETES_WITH)
    for competitor in Organization.objects.filter(kind=OrgKind.COMPETITOR):
        assert competes.filter(Q(source_org=competitor) | Q(target_org=competitor)).count() >= 2
    assert Relationship.objects.filter(kind=RelationshipKind.CUSTOMER_OF, target_org=ours).count() == (
        Organization.objects.filter(kind=OrgKind.CUSTOMER).count()
    )
    for kind in RelationshipKind:
        if kind not in {RelationshipKind.WORKS_WITH, RelationshipKind.OTHER}:
            assert Relationship.objects.filter(kind=kind).exists(), kind
    # Symmetric lines are stored once, smaller id first.
    for rel in Relationship.objects.filter(kind__in=SYMMETRIC_KINDS):
        assert rel.source.pk < rel.target.pk

    # Interests: a few very popular, a long tail.
    counts = sorted(Interest.objects.annotate(n=Count("members")).values_list("n", flat=True))
    assert max(counts) >= 3 * median(counts)
    picks = Member.objects.annotate(n=Count("interests")).values_list("n", flat=True)
    assert min(picks) >= 1 and max(picks) <= 5

    assert Identity.objects.filter(source="slack").exists()
    assert Member.objects.filter(consent_to_contact=False).exists()
    assert Member.objects.filter(listed=True).exists() and Member.objects.filter(listed=False).exists()
    assert Activity.objects.filter(source=DEMO_SOURCE).count() >= SIZE
    # The rest is the conversations in spaces and the events, recorded as their services record them.
    assert not Activity.objects.exclude(source=DEMO_SOURCE).exclude(place_kind__in=["space", "event"]).exists()

    summary = result.summary()
    assert "admin@northwind.example" in summary and DEMO_PASSWORD in summary


def test_demo_logins_work_and_are_linked_to_members() -> None:
    result = build_demo(members=SIZE, seed=1, steps=False)

    user = authenticate(email="admin@northwind.example", password=DEMO_PASSWORD)
    assert user is not None and user.staff_role == StaffRole.ADMIN
    assert Member.objects.get(user=user).role == Role.EMPLOYEE
    assert {login.email for login in result.logins} == set(User.objects.values_list("email", flat=True))
    roles = set(User.objects.values_list("staff_role", flat=True))
    assert roles == {c.value for c in StaffRole}
    # The two customer logins are at two customer organisations that compete.
    customers = [Member.objects.get(user__email=login.email) for login in result.logins if "customer at" in login.who]
    assert len(customers) == 2
    a, b = (m.affiliations.get(ended_on__isnull=True).organization for m in customers)
    assert a.kind == b.kind == OrgKind.CUSTOMER and a != b
    assert (
        Relationship.objects.filter(kind=RelationshipKind.COMPETES_WITH, source_org=min(a, b, key=lambda o: o.pk))
        .filter(target_org=max(a, b, key=lambda o: o.pk))
        .exists()
    )


def test_the_same_seed_gives_the_same_community() -> None:
    build_demo(members=SIZE, seed=7)
    first = _digest()
    build_demo(members=SIZE, seed=7, reset=True)
    assert _digest() == first
    build_demo(members=SIZE, seed=8, reset=True)
    assert _digest() != first


def test_running_again_without_reset_adds_nothing() -> None:
    build_demo(members=SIZE, seed=1)
    before = (Member.objects.count(), Relationship.objects.count(), Activity.objects.count())

    result = build_demo(members=SIZE * 2, seed=1)

    assert not result.built
    assert result.summary() == "demo already built; use --reset to rebuild"
    assert (Member.objects.count(), Relationship.objects.count(), Activity.objects.count()) == before


def test_reset_rebuilds_at_the_new_size() -> None:
    build_demo(members=SIZE, seed=1)
    organization_create(name="Not In The Demo", kind=OrgKind.CUSTOMER)

    result = build_demo(members=SIZE + 50, seed=1, reset=True, steps=False)

    assert result.built
    assert Member.objects.count() == SIZE + 50
    assert not Organization.objects.filter(name="Not In The Demo").exists()
    assert Organization.objects.filter(kind=OrgKind.OURS).count() == 1
    # The ids continue to work for ordinary writes after the bulk insert.
    assert member_create(name="After Demo", email="after@demo.example").pk


def test_demo_refuses_a_database_with_other_people_unless_reset() -> None:
    member_create(name="Someone Real", email="someone@real.example")

    with pytest.raises(ApplicationError) as err:
        build_demo(members=SIZE)
    assert err.value.code == ErrorCode.CONFLICT
    assert Member.objects.count() == 1


def test_demo_size_is_checked() -> None:
    with pytest.raises(ApplicationError) as err:
        build_demo(members=10)
    assert err.value.code == ErrorCode.VALIDATION


def test_a_member_and_an_organisation_that_share_an_id_keep_their_line() -> None:
    # An "advises" line runs from a member to an organisation; their ids come from two
    # sequences and may be equal by chance, which is no self-line (the build must not
    # depend on where the sequences stand, or the same seed would give another community).
    ids = np.array([5, 6], dtype=np.int64)
    a, b = _ordered(RelationshipKind.ADVISES, ids, ids.copy(), same_ends=False)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(5, 5), (6, 6)]
    a, b = _ordered(RelationshipKind.KNOWS, ids, ids[::-1].copy(), same_ends=True)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(5, 6)]  # symmetric: once, smaller id first
    a, b = _ordered(RelationshipKind.COLLEAGUE, ids, ids.copy(), same_ends=True)
    assert not len(a)
