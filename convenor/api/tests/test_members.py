from __future__ import annotations

from typing import Any

from convenor.core.models import StaffRole
from convenor.core.testing import PASSWORD, World
from convenor.people.models import Member, MemberMerge, Role
from convenor.people.services import account_create, member_create, member_update

from .conftest import Api, api_as


def names(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [m["name"] for m in items]


def test_list_filters_by_query_role_organization_and_interest(world: World, admin_api: Api) -> None:
    member_create(name="Pia Pipelines", role=Role.CUSTOMER, organization=world.acme, interests=["Data pipelines"])
    assert names(admin_api.get("/members").body) == [
        "Ada Admin",
        "Carla Acme",
        "Gus Globex",
        "Olive Outsider",
        "Pia Pipelines",
    ]
    assert names(admin_api.get("/members", q="globex").body) == ["Gus Globex"]
    assert names(admin_api.get("/members", role="customer").body) == [
        "Carla Acme",
        "Gus Globex",
        "Pia Pipelines",
    ]
    assert names(admin_api.get("/members", organization=world.acme.pk).body) == [
        "Carla Acme",
        "Pia Pipelines",
    ]
    assert names(admin_api.get("/members", interest="data-pipelines").body) == ["Pia Pipelines"]


def test_list_pages_with_links(world: World, admin_api: Api) -> None:
    first = admin_api.get("/members", page_size=2).body
    assert first["count"] == 4 and first["page"] == 1 and first["page_size"] == 2
    assert names(first) == ["Ada Admin", "Carla Acme"]
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/members?page_size=2&page=2"
    second = admin_api.get(first["next"]).body
    assert names(second) == ["Gus Globex", "Olive Outsider"]
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/members?page_size=2&page=1"
    beyond = admin_api.get("/members", page=9, page_size=2).body
    assert beyond["items"] == [] and beyond["count"] == 4


def test_list_keeps_filters_in_page_links(world: World, admin_api: Api) -> None:
    body = admin_api.get("/members", role="customer", page_size=1).body
    assert body["next"] == "http://testserver/api/v1/members?role=customer&page_size=1&page=2"


def test_a_customer_sees_only_what_access_allows(world: World, globex_api: Api) -> None:
    body = globex_api.get("/members").body
    # Themselves and our employees; not Carla at Acme (a competitor's customer, unlisted).
    assert names(body) == ["Ada Admin", "Gus Globex"]
    by_name = {m["name"]: m for m in body["items"]}
    assert by_name["Gus Globex"]["email"] == "gus@globex.example"  # their own
    assert by_name["Ada Admin"]["email"] is None  # not staff, not self


def test_globex_gets_404_for_unlisted_acme_member_and_acme_itself(world: World, globex_api: Api) -> None:
    assert globex_api.get(f"/members/{world.acme_member.pk}").status == 404
    assert globex_api.get(f"/organizations/{world.acme.pk}").status == 404
    assert globex_api.get("/members", organization=world.acme.pk).body["items"] == []


def test_listed_member_shows_only_organisations_the_viewer_may_see(world: World, globex_api: Api) -> None:
    member_update(member=world.acme_member, listed=True)
    body = globex_api.get(f"/members/{world.acme_member.pk}").body
    assert body["name"] == "Carla Acme"
    assert body["email"] is None
    assert body["organizations"] == []  # Acme is not visible to a Globex customer


def test_detail_for_staff_has_everything(world: World, admin_api: Api) -> None:
    body = admin_api.get(f"/members/{world.acme_member.pk}").body
    assert body == {
        "id": world.acme_member.pk,
        "name": "Carla Acme",
        "email": "carla@acme.example",
        "role": "customer",
        "title": "Data engineer",
        "location": "",
        "interests": [],
        "organizations": [{"id": world.acme.pk, "name": "Acme", "title": "Data engineer"}],
        "consent_to_contact": True,
        "listed": False,
        "created_at": body["created_at"],
    }


def test_create_member(world: World, admin_api: Api) -> None:
    resp = admin_api.post(
        "/members",
        {
            "name": "Nina New",
            "email": "NINA@acme.example",
            "role": "customer",
            "title": "Analyst",
            "interests": ["Dashboards", "Data pipelines"],
            "organization": world.acme.pk,
        },
    )
    assert resp.status == 201, resp.body
    assert resp.body["email"] == "nina@acme.example"
    assert resp.body["interests"] == ["Dashboards", "Data pipelines"]
    assert resp.body["organizations"] == [{"id": world.acme.pk, "name": "Acme", "title": "Analyst"}]
    assert resp.body["listed"] is False
    assert Member.objects.filter(email="nina@acme.example").exists()


def test_create_with_invalid_fields_is_422_per_field_and_writes_nothing(world: World, admin_api: Api) -> None:
    before = Member.objects.count()
    resp = admin_api.post("/members", {"name": " ", "email": "not-an-email", "title": "x" * 201})
    assert resp.status == 422
    assert set(resp.body["error"]["fields"]) == {"name", "email", "title"}
    resp = admin_api.post("/members", {"name": "Ok", "role": "wizard", "consent_to_contact": "maybe"})
    assert resp.status == 422
    assert set(resp.body["error"]["fields"]) == {"role", "consent_to_contact"}
    resp = admin_api.post("/members", {"email": "nobody@x.example"})
    assert resp.body["error"]["fields"] == {"name": ["Field required"]}
    assert Member.objects.count() == before


def test_duplicate_email_is_409(world: World, admin_api: Api) -> None:
    resp = admin_api.post("/members", {"name": "Carla Again", "email": "Carla@Acme.example"})
    assert resp.status == 409
    assert resp.body["error"]["code"] == "duplicate"
    assert "email" in resp.body["error"]["fields"]


def test_non_editor_cannot_create(world: World, acme_api: Api) -> None:
    product = account_create(email="pat@northwind.example", password=PASSWORD, staff_role=StaffRole.PRODUCT)
    before = Member.objects.count()
    for api in (acme_api, api_as(product)):
        resp = api.post("/members", {"name": "Sneaky"})
        assert resp.status == 403
        assert resp.body["error"]["code"] == "permission_denied"
    assert Member.objects.count() == before


def test_create_at_an_unknown_organisation_is_404(world: World, admin_api: Api) -> None:
    resp = admin_api.post("/members", {"name": "Nobody", "organization": 999999})
    assert resp.status == 404
    assert not Member.objects.filter(name="Nobody").exists()


def test_staff_update_member(world: World, admin_api: Api) -> None:
    resp = admin_api.patch(f"/members/{world.acme_member.pk}", {"title": "Head of data", "interests": ["Graphs"]})
    assert resp.status == 200, resp.body
    assert resp.body["title"] == "Head of data"
    assert resp.body["interests"] == ["Graphs"]
    assert resp.body["role"] == "customer"  # untouched


def test_member_updates_own_profile_but_not_role(world: World, acme_api: Api) -> None:
    url = f"/members/{world.acme_member.pk}"
    resp = acme_api.patch(url, {"location": "Lyon", "listed": True})
    assert resp.status == 200 and resp.body["location"] == "Lyon" and resp.body["listed"] is True
    assert acme_api.patch(url, {"role": "employee"}).status == 403
    # Someone else's profile: visible (an employee) but not theirs.
    assert acme_api.patch(f"/members/{world.admin_member.pk}", {"title": "x"}).status == 403
    world.acme_member.refresh_from_db()
    assert world.acme_member.role == Role.CUSTOMER


def test_update_email_to_null_removes_it(world: World, admin_api: Api) -> None:
    resp = admin_api.patch(f"/members/{world.outsider_member.pk}", {"email": None})
    assert resp.status == 200 and resp.body["email"] is None


def test_update_duplicate_email_is_409(world: World, admin_api: Api) -> None:
    resp = admin_api.patch(f"/members/{world.globex_member.pk}", {"email": "carla@acme.example"})
    assert resp.status == 409


def test_merge(world: World, admin_api: Api) -> None:
    dup = member_create(name="C. Acme", role=Role.CUSTOMER, organization=world.globex, interests=["Graphs"])
    resp = admin_api.post(f"/members/{world.acme_member.pk}/merge", {"other_id": dup.pk})
    assert resp.status == 200, resp.body
    assert resp.body["survivor"]["id"] == world.acme_member.pk
    assert resp.body["survivor"]["interests"] == ["Graphs"]
    assert resp.body["merge"]["merged_member_id"] == dup.pk
    assert resp.body["merge"]["merged_name"] == "C. Acme"
    assert resp.body["merge"]["moved"]["affiliations"] == 1
    assert not Member.objects.filter(pk=dup.pk).exists()
    assert MemberMerge.objects.filter(survivor=world.acme_member).count() == 1
    # The merged id is gone now.
    assert admin_api.get(f"/members/{dup.pk}").status == 404


def test_merge_into_itself_is_refused(world: World, admin_api: Api) -> None:
    resp = admin_api.post(f"/members/{world.acme_member.pk}/merge", {"other_id": world.acme_member.pk})
    assert resp.status == 422
    assert resp.body["error"]["code"] == "merge_self"


def test_merge_needs_a_merger(world: World) -> None:
    sales = account_create(email="sam@northwind.example", password=PASSWORD, staff_role=StaffRole.SALES)
    dup = member_create(name="Dup")
    resp = api_as(sales).post(f"/members/{world.acme_member.pk}/merge", {"other_id": dup.pk})
    assert resp.status == 403
    assert Member.objects.filter(pk=dup.pk).exists()


def test_me(world: World, admin_api: Api, acme_api: Api) -> None:
    assert admin_api.get("/me").body == {
        "id": world.admin.pk,
        "email": "admin@northwind.example",
        "name": "Ada Admin",
        "staff_role": "admin",
        "member_id": world.admin_member.pk,
    }
    body = acme_api.get("/me").body
    assert body["staff_role"] is None and body["member_id"] == world.acme_member.pk


def test_list_query_count_does_not_grow_with_the_page(
    world: World, admin_api: Api, globex_api: Api, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        member_create(name=f"Member {i:02}", organization=world.acme, interests=["Graphs", "Dashboards"], listed=True)
    # token + count + page + interests + affiliations (+ the viewer's orgs for non-staff)
    with django_assert_max_num_queries(8):
        assert len(admin_api.get("/members", page_size=30).body["items"]) == 30
    with django_assert_max_num_queries(10):
        assert len(globex_api.get("/members", page_size=30).body["items"]) == 30
