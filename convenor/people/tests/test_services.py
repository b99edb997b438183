from __future__ import annotations

import pytest

from convenor.activity.models import Activity, Verb
from convenor.activity.services import record
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.testing import World
from convenor.people.models import (
    Affiliation,
    Identity,
    Member,
    MemberMerge,
    MergeSuggestion,
    Relationship,
    RelationshipKind,
    Role,
)
from convenor.people.services import (
    affiliation_add,
    identity_add,
    member_create,
    member_merge,
    merge_suggestions_refresh,
    organization_create,
    relationship_create,
)


def test_member_create_rejects_bad_fields_per_field(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        member_create(name=" ", email="not-an-email", role="wizard")
    assert err.value.code == ErrorCode.VALIDATION
    assert set(err.value.fields) == {"name", "email", "role"}
    assert not Member.objects.filter(email="not-an-email").exists()


def test_member_email_is_unique_case_insensitively(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        member_create(name="Another Carla", email="CARLA@acme.example")
    assert "email" in err.value.fields


def test_organization_name_is_unique_case_insensitively(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        organization_create(name="ACME")
    assert "name" in err.value.fields


def test_duplicate_identity_is_refused(world: World) -> None:
    identity_add(member=world.acme_member, source="slack", external_id="U1", handle="carla")
    # the same member again is a no-op
    identity_add(member=world.acme_member, source="slack", external_id="U1")
    with pytest.raises(ApplicationError) as err:
        identity_add(member=world.globex_member, source="slack", external_id="U1")
    assert err.value.code == ErrorCode.DUPLICATE
    assert Identity.objects.filter(source="slack").count() == 1


def test_symmetric_relationship_is_one_row_either_way(world: World) -> None:
    relationship_create(kind=RelationshipKind.KNOWS, source=world.acme_member, target=world.globex_member)
    with pytest.raises(ApplicationError) as err:
        relationship_create(kind=RelationshipKind.KNOWS, source=world.globex_member, target=world.acme_member)
    assert err.value.code == ErrorCode.DUPLICATE


def test_relationship_to_itself_is_refused(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        relationship_create(kind=RelationshipKind.KNOWS, source=world.acme_member, target=world.acme_member)
    assert "target" in err.value.fields


def test_merge_into_itself_is_refused(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        member_merge(survivor=world.acme_member, merged=world.acme_member)
    assert err.value.code == ErrorCode.MERGE_SELF


def test_merge_moves_identities_affiliations_activities_and_relationships(world: World) -> None:
    dup = member_create(name="Carla A.", email="carla.a@gmail.example", role=Role.CUSTOMER, organization=world.acme)
    identity_add(member=dup, source="slack", external_id="U9", handle="carla")
    relationship_create(kind=RelationshipKind.KNOWS, source=dup, target=world.globex_member)
    # a line between the two halves of one person disappears rather than loop
    relationship_create(kind=RelationshipKind.KNOWS, source=dup, target=world.acme_member)
    record(actor=dup, verb=Verb.REPLIED, target_member=world.globex_member, origin_id="t:1")
    record(actor=world.globex_member, verb=Verb.MENTIONED, target_member=dup, origin_id="t:2")

    merge = member_merge(survivor=world.acme_member, merged=dup, actor=world.admin)

    assert not Member.objects.filter(pk=dup.pk).exists()
    assert Identity.objects.get(source="slack", external_id="U9").member == world.acme_member
    # the merged member's primary email becomes an extra email identity
    assert Identity.objects.get(source="email", external_id="carla.a@gmail.example").member == world.acme_member
    # both had a current place at Acme: one remains
    assert Affiliation.objects.filter(member=world.acme_member, organization=world.acme).count() == 1
    assert Activity.objects.filter(actor=world.acme_member).count() == 1
    assert Activity.objects.filter(target_member=world.acme_member).count() == 1
    assert (
        Relationship.objects.filter(source_member=world.acme_member).count()
        + Relationship.objects.filter(target_member=world.acme_member).count()
        == 1
    )
    assert MemberMerge.objects.get(pk=merge.pk).merged_name == "Carla A."


def test_merge_suggestions_find_same_email_handle_and_name(world: World) -> None:
    a = member_create(name="Dan Doe", email="dan@acme.example", organization=world.acme)
    b = member_create(name="dan doe", organization=world.acme)
    identity_add(member=b, source="discourse", external_id="77", handle="DanD", email="dan@acme.example")
    c = member_create(name="Daniel", email="daniel@else.example")
    identity_add(member=c, source="discourse-2", external_id="1", handle="dand")
    d = member_create(name="D", email="d@else.example")
    identity_add(member=d, source="discourse-2", external_id="2", handle="DANd")

    assert merge_suggestions_refresh() == 2  # (a, b) by email (and name); (c, d) by handle
    reasons = dict(MergeSuggestion.objects.values_list("member_a", "reason"))
    assert reasons[min(a.pk, b.pk)] == "same_email"
    assert reasons[min(c.pk, d.pk)] == "same_handle"
    # running again adds nothing
    assert merge_suggestions_refresh() == 0


def test_affiliation_dates_are_checked(world: World) -> None:
    import datetime as dt

    with pytest.raises(ApplicationError) as err:
        affiliation_add(
            member=world.outsider_member,
            organization=world.globex,
            started_on=dt.date(2025, 1, 1),
            ended_on=dt.date(2024, 1, 1),
        )
    assert "ended_on" in err.value.fields
