from __future__ import annotations

from convenor.core.testing import World
from convenor.people.models import Relationship

from .conftest import Api


def test_create_duplicate_and_delete(world: World, admin_api: Api) -> None:
    body = {
        "kind": "knows",
        "source": {"member": world.acme_member.pk},
        "target": {"member": world.globex_member.pk},
        "strength": 3,
        "evidence": "met at the user conference",
        "started_on": "2024-05-01",
    }
    resp = admin_api.post("/relationships", body)
    assert resp.status == 201, resp.body
    rel = resp.body
    assert rel["kind"] == "knows" and rel["directed"] is False and rel["strength"] == 3.0
    assert rel["source"] == {"type": "member", "id": world.acme_member.pk, "name": "Carla Acme"}
    assert rel["target"] == {"type": "member", "id": world.globex_member.pk, "name": "Gus Globex"}
    assert rel["started_on"] == "2024-05-01"
    assert admin_api.get(f"/relationships/{rel['id']}").body == rel

    # The same line the other way round is the same line.
    swapped = {**body, "source": body["target"], "target": body["source"]}
    resp = admin_api.post("/relationships", swapped)
    assert resp.status == 409 and resp.body["error"]["code"] == "duplicate"

    resp = admin_api.delete(f"/relationships/{rel['id']}")
    assert resp.status == 204 and resp.body is None
    assert not Relationship.objects.filter(pk=rel["id"]).exists()
    assert admin_api.delete(f"/relationships/{rel['id']}").status == 404


def test_member_to_organisation(world: World, admin_api: Api) -> None:
    resp = admin_api.post(
        "/relationships",
        {
            "kind": "advises",
            "source": {"member": world.outsider_member.pk},
            "target": {"organization": world.acme.pk},
        },
    )
    assert resp.status == 201, resp.body
    assert resp.body["directed"] is True
    assert resp.body["target"] == {"type": "organization", "id": world.acme.pk, "name": "Acme"}


def test_invalid_relationships_are_422(world: World, admin_api: Api) -> None:
    me = {"member": world.acme_member.pk}
    cases = [
        ({"kind": "loves", "source": me, "target": {"organization": world.acme.pk}}, {"kind"}),
        ({"kind": "knows", "source": {}, "target": me}, {"source"}),
        ({"kind": "knows", "source": me, "target": {"member": 1, "organization": 1}}, {"target"}),
        ({"kind": "knows", "source": me, "target": me}, {"target"}),
        (
            {"kind": "knows", "source": me, "target": {"member": world.globex_member.pk}, "strength": 0},
            {"strength"},
        ),
        (
            {
                "kind": "knows",
                "source": me,
                "target": {"member": world.globex_member.pk},
                "started_on": "2024-05-01",
                "ended_on": "2023-01-01",
            },
            {"ended_on"},
        ),
    ]
    before = Relationship.objects.count()
    for body, fields in cases:
        resp = admin_api.post("/relationships", body)
        assert resp.status == 422, (body, resp.body)
        assert set(resp.body["error"]["fields"]) == fields, resp.body
    assert Relationship.objects.count() == before


def test_unknown_end_is_404(world: World, admin_api: Api) -> None:
    resp = admin_api.post(
        "/relationships",
        {"kind": "knows", "source": {"member": 999999}, "target": {"member": world.acme_member.pk}},
    )
    assert resp.status == 404


def test_list_filters(world: World, admin_api: Api) -> None:
    assert admin_api.get("/relationships").body["count"] == 3
    by_kind = admin_api.get("/relationships", kind="customer_of").body
    assert by_kind["count"] == 2
    assert {r["source"]["name"] for r in by_kind["items"]} == {"Acme", "Globex"}
    acme = admin_api.get("/relationships", organization=world.acme.pk).body
    assert {r["kind"] for r in acme["items"]} == {"competes_with", "customer_of"}
    assert admin_api.get("/relationships", member=world.acme_member.pk).body["count"] == 0
    assert admin_api.get("/relationships", kind="loves").status == 422


def test_customer_sees_only_lines_between_visible_ends(world: World, globex_api: Api) -> None:
    body = globex_api.get("/relationships").body
    # Globex customer_of Northwind only; Acme is invisible to them.
    assert [(r["source"]["name"], r["kind"], r["target"]["name"]) for r in body["items"]] == [
        ("Globex", "customer_of", "Northwind Systems")
    ]
    acme_line = admin_line = body["items"][0]["id"]
    assert globex_api.get(f"/relationships/{acme_line}").status == 200
    hidden = Relationship.objects.get(kind="competes_with").pk
    assert globex_api.get(f"/relationships/{hidden}").status == 404
    assert globex_api.get("/relationships", organization=world.acme.pk).status == 404
    # Seeing a line does not mean changing it.
    assert globex_api.delete(f"/relationships/{admin_line}").status == 403
    assert (
        globex_api.post(
            "/relationships",
            {
                "kind": "knows",
                "source": {"member": world.globex_member.pk},
                "target": {"member": world.admin_member.pk},
            },
        ).status
        == 403
    )
