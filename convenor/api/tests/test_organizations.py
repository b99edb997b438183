from __future__ import annotations

from convenor.core.testing import World
from convenor.people.models import Organization

from .conftest import Api


def test_list_and_filter(world: World, admin_api: Api, acme_api: Api) -> None:
    body = admin_api.get("/organizations").body
    assert [o["name"] for o in body["items"]] == ["Acme", "Globex", "Northwind Systems"]
    assert body["count"] == 3 and body["next"] is None
    assert [o["name"] for o in admin_api.get("/organizations", q="globex.exa").body["items"]] == ["Globex"]
    assert [o["name"] for o in admin_api.get("/organizations", kind="ours").body["items"]] == ["Northwind Systems"]
    # A customer sees our company and their own.
    assert [o["name"] for o in acme_api.get("/organizations").body["items"]] == ["Acme", "Northwind Systems"]
    assert admin_api.get("/organizations", kind="nonsense").status == 422


def test_detail_has_domains_and_people(world: World, acme_api: Api) -> None:
    body = acme_api.get(f"/organizations/{world.acme.pk}").body
    assert body["name"] == "Acme"
    assert body["kind"] == "customer"
    assert body["domains"] == ["acme.example"]
    assert body["people"] == 1


def test_create(world: World, admin_api: Api) -> None:
    resp = admin_api.post(
        "/organizations",
        {
            "name": "Initech",
            "kind": "prospect",
            "website": "https://initech.example",
            "domains": ["initech.example"],
        },
    )
    assert resp.status == 201, resp.body
    assert resp.body["domains"] == ["initech.example"] and resp.body["people"] == 0
    assert Organization.objects.filter(name="Initech").exists()


def test_create_invalid_is_422_and_writes_nothing(world: World, admin_api: Api) -> None:
    resp = admin_api.post("/organizations", {"name": "", "website": "ftp://x", "domains": ["not a domain"]})
    assert resp.status == 422
    assert set(resp.body["error"]["fields"]) == {"name", "website", "domains"}
    resp = admin_api.post("/organizations", {"name": "Initech", "kind": "evil"})
    assert resp.status == 422 and set(resp.body["error"]["fields"]) == {"kind"}
    assert Organization.objects.count() == 3


def test_duplicate_name_or_domain_is_409(world: World, admin_api: Api) -> None:
    resp = admin_api.post("/organizations", {"name": "ACME"})
    assert resp.status == 409 and resp.body["error"]["code"] == "duplicate"
    assert "name" in resp.body["error"]["fields"]
    resp = admin_api.post("/organizations", {"name": "Acme 2", "domains": ["acme.example"]})
    assert resp.status == 409 and "domains" in resp.body["error"]["fields"]


def test_non_editor_cannot_create_or_change(world: World, acme_api: Api) -> None:
    assert acme_api.post("/organizations", {"name": "Mine"}).status == 403
    assert acme_api.patch(f"/organizations/{world.acme.pk}", {"name": "Mine"}).status == 403
    assert acme_api.patch(f"/organizations/{world.globex.pk}", {"name": "Mine"}).status == 404
    world.acme.refresh_from_db()
    assert world.acme.name == "Acme"


def test_update(world: World, admin_api: Api) -> None:
    resp = admin_api.patch(
        f"/organizations/{world.acme.pk}", {"description": "Roadrunner traps", "domains": ["acme.test"]}
    )
    assert resp.status == 200, resp.body
    assert resp.body["description"] == "Roadrunner traps"
    assert resp.body["domains"] == ["acme.test"]
    assert resp.body["name"] == "Acme"
    resp = admin_api.patch(f"/organizations/{world.acme.pk}", {"name": "Globex"})
    assert resp.status == 409
