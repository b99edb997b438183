from __future__ import annotations

import io

import pytest

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import AuditEntry
from convenor.core.testing import World
from convenor.people.imports import import_members_csv, import_relationships_csv, parse_members
from convenor.people.models import Affiliation, Member, Organization, OrgKind, Relationship, RelationshipKind

MEMBERS = b"""email,name,role,organization,title,interests
dora@initech.example,Dora Diaz,customer,Initech,Head of data,data pipelines; Observability
ed@initech.example,Ed Eng,Customer,Initech,,observability
sam@supplyco.example,Sam Supplier,supplier,SupplyCo,Account manager,
"""


def _file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_import_members_creates_people_organisations_and_interests(world: World) -> None:
    result = import_members_csv(_file(MEMBERS), filename="crm.csv")
    assert (result.rows, result.created, result.updated, result.organizations_created) == (3, 3, 0, 2)
    dora = Member.objects.get(email="dora@initech.example")
    assert dora.role == "customer"
    assert {i.name for i in dora.interests.all()} == {"data pipelines", "Observability"}
    initech = Organization.objects.get(name="Initech")
    assert initech.kind == OrgKind.CUSTOMER
    assert Organization.objects.get(name="SupplyCo").kind == OrgKind.SUPPLIER
    assert Affiliation.objects.filter(organization=initech, ended_on__isnull=True).count() == 2
    assert AuditEntry.objects.filter(action="convenor.import.members").count() == 1


def test_import_members_twice_changes_nothing(world: World) -> None:
    import_members_csv(_file(MEMBERS))
    counts = (Member.objects.count(), Affiliation.objects.count(), Organization.objects.count())
    result = import_members_csv(_file(MEMBERS))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert counts == (Member.objects.count(), Affiliation.objects.count(), Organization.objects.count())


def test_import_members_updates_existing_people_by_email(world: World) -> None:
    data = b"email,name,role,organization,title,interests\n"
    data += b"CARLA@acme.example,Carla Acme-Smith,customer,Acme,Lead,\n"
    result = import_members_csv(_file(data))
    assert (result.created, result.updated) == (0, 1)
    world.acme_member.refresh_from_db()
    assert world.acme_member.name == "Carla Acme-Smith"
    assert Affiliation.objects.filter(member=world.acme_member, organization=world.acme).count() == 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"email,name\nx@y.example,X\n", "missing column(s) role, organization, title, interests"),
        (b"", "empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (
            b'email,name,role,organization,title,interests\n"a@b.example,A,customer,,,\n',
            "line 2: a quote opens a field and is never closed, so everything up to the end of the file",
        ),
        (
            b"email,name,role,organization,title,interests\na@b.example,A,customer,,,\n"
            b'c@d.example,"C,customer,,,\ne@f.example,E,customer,,,\ng@h.example,G,customer,,"Lead",\n',
            "line 3: a quote opens a field and is never closed, so everything up to line 5",
        ),
        (b"email,name,role,organization,title,interests\na@b.example,A\n", "line 2: 2 field(s)"),
    ],
)
def test_malformed_member_files_are_refused_clearly(world: World, data: bytes, expected: str) -> None:
    before = Member.objects.count()
    with pytest.raises(ApplicationError) as err:
        import_members_csv(_file(data))
    assert err.value.code == ErrorCode.BAD_FILE
    assert expected in err.value.message
    assert Member.objects.count() == before


def test_one_bad_row_writes_nothing_and_names_every_line(world: World) -> None:
    data = (
        MEMBERS
        + b"not-an-email,Bad,customer,Initech,,\n"
        + b"ok@initech.example,,wizard,Initech,,\n"
        + b"dora@initech.example,D,customer,,,\n"
    )
    before = (Member.objects.count(), Organization.objects.count())
    with pytest.raises(ApplicationError) as err:
        import_members_csv(_file(data), filename="crm.csv")
    msg = err.value.message
    assert "line 5: email: 'not-an-email' is not a valid email address" in msg
    assert "line 6: name: required" in msg
    assert "line 6: role: 'wizard'" in msg
    assert "line 7: email: dora@initech.example is also on line 2" in msg
    assert (Member.objects.count(), Organization.objects.count()) == before
    # the failed run is recorded too
    assert AuditEntry.objects.filter(action="convenor.import.members", data__error__icontains="line 5").exists()


def test_parse_members_is_pure_and_accepts_role_labels() -> None:
    rows, problems, ignored = parse_members(
        b"Email,Name,Role,Organization,Title,Interests,Phone\na@b.example,A,Competitor contact,,,x;y,\n"
    )
    assert problems == []
    assert rows[0].role == "competitor_contact"
    assert rows[0].interests == ["x", "y"]
    assert ignored == ["phone"]


def test_import_relationships_links_members_and_organisations(world: World) -> None:
    import_members_csv(_file(MEMBERS))
    data = b"""source,target,kind,weight
dora@initech.example,ed@initech.example,colleague,2
Initech,Acme,customer of,1.5
SupplyCo,Initech,supplies,
carla@acme.example,Initech,advises,1
"""
    result = import_relationships_csv(_file(data))
    assert result.created == 4
    rel = Relationship.objects.get(kind=RelationshipKind.CUSTOMER_OF, source_org__name="Initech")
    assert rel.target_org == world.acme and rel.strength == 1.5
    again = import_relationships_csv(_file(data.replace(b",2\n", b",3\n")))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 3)


def test_bad_relationship_rows_are_reported_by_line(world: World) -> None:
    data = b"""source,target,kind,weight
nobody@x.example,Acme,knows,1
Acme,Unknown Corp,customer of,1
Acme,Globex,frenemy,1
Acme,Globex,competes with,abc
Globex,Acme,competes_with,1
Acme,Globex,competes_with,2
"""
    before = Relationship.objects.count()
    with pytest.raises(ApplicationError) as err:
        import_relationships_csv(_file(data))
    msg = err.value.message
    assert "line 2: source: no member with email 'nobody@x.example'" in msg
    assert "line 3: target: no organisation called 'Unknown Corp'" in msg
    assert "line 4: kind: 'frenemy'" in msg
    assert "line 5: weight: 'abc' is not a number" in msg
    assert "line 7: the same relationship as line 6" in msg
    assert Relationship.objects.count() == before
