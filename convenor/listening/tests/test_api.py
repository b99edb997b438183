"""Listening in the JSON API: staff only, sources, runs with rejections, share of voice."""

from __future__ import annotations

import pytest

from convenor.api.tests.conftest import api_as
from convenor.core.models import StaffRole
from convenor.core.testing import World
from convenor.listening import services
from convenor.listening.models import BrandAlias
from convenor.people.services import account_create

from .conftest import SAMPLES, Brands, Served

pytestmark = pytest.mark.django_db


def test_staff_only_and_editors_only_for_changes(world: World, brands: Brands) -> None:
    acme = api_as(world.acme_user)
    for path in ("/listening/sources", "/listening/runs", "/listening/share-of-voice", "/listening/hangouts"):
        resp = acme.get(path)
        assert resp.status == 404 and resp.body["error"]["code"] == "not_found", path
    product = account_create(
        email="pat@northwind.example", password="x-Long-pass-1", name="Pat Product", staff_role=StaffRole.PRODUCT
    )
    reader = api_as(product)
    assert reader.get("/listening/sources").status == 200
    assert reader.post("/listening/sources", {"name": "X", "importer": "rss"}).status == 404


def test_sources_runs_and_share_of_voice(world: World, brands: Brands, http_server: Served) -> None:
    admin = api_as(world.admin)
    url = http_server.add("/reviews.csv", (SAMPLES / "reviews.csv").read_bytes())
    created = admin.post("/listening/sources", {"name": "G2", "importer": "reviews", "url": url, "refresh_minutes": 60})
    assert created.status == 201 and created.body["conduit"] == "reviews" and created.body["key"] == "reviews:g2"
    bad = admin.post("/listening/sources", {"name": "X", "importer": "rss", "refresh_minutes": 2})
    assert bad.status == 422 and "refresh_minutes" in bad.body["error"]["fields"]
    sid = created.body["id"]
    run = admin.post(f"/listening/sources/{sid}/refresh")
    assert run.status == 200 and run.body["status"] == "done" and run.body["created"] == 3
    assert run.body["rejections"][0]["position"] == "line 6" and run.body["rejections"][0]["file"] == url
    listed = admin.get("/listening/runs", problems="true")
    assert listed.body["count"] == 1 and listed.body["items"][0]["rejected"] == 4
    assert admin.get(f"/listening/runs/{run.body['id']}").body["rejections"][3]["reason"].startswith("not UTF-8")
    sov = admin.get("/listening/share-of-voice", by="conduit")
    assert sov.status == 200 and sov.body["rows"][0]["key"] == "reviews"
    assert sov.body["ours"] + sov.body["competitors"] > 0
    assert admin.get("/listening/share-of-voice", by="sideways").status == 422
    hang = admin.get("/listening/hangouts", segment="role")
    assert hang.status == 200 and hang.body[0]["places"][0]["conduit"] == "reviews"
    assert admin.get("/listening/sources/999999").status == 404


def test_a_bad_document_answers_bad_file(world: World, http_server: Served) -> None:
    admin = api_as(world.admin)
    source = services.source_create(
        name="Bomb", importer="rss", url=http_server.add("/bomb.xml", (SAMPLES / "bomb.xml").read_bytes())
    )
    resp = admin.post(f"/listening/sources/{source.pk}/refresh")
    assert (
        resp.status == 422 and resp.body["error"]["code"] == "bad_file" and "XML bombs" in resp.body["error"]["message"]
    )


def test_aliases(world: World, brands: Brands) -> None:
    admin = api_as(world.admin)
    resp = admin.post("/listening/aliases", {"organization_id": brands.contoso.pk, "alias": "CFlow"})
    assert resp.status == 201 and BrandAlias.objects.filter(alias="CFlow").exists()
    dup = admin.post("/listening/aliases", {"organization_id": brands.ours.pk, "alias": "cflow"})
    assert dup.status == 409 and dup.body["error"]["code"] == "duplicate"
    assert admin.post("/listening/aliases", {"organization_id": world.acme.pk, "alias": "Acme"}).status == 404
    assert admin.delete(f"/listening/aliases/{resp.body['id']}").status == 204
