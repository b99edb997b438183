"""The map's pages and API: who may see what (the whole map is for staff, a member sees their
own ego map through the gate), the data the browser reads, snapshots, comparison, downloads."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.api.tests.conftest import Api, api_as
from convenor.core.testing import World
from convenor.graph.models import Map
from convenor.graph.services import build_map
from convenor.people.models import Member, Role
from convenor.people.services import member_create
from convenor.spaces.models import Space


@pytest.fixture
def mapped(world: World, lounge: Space, acme_space: Space) -> dict[str, Any]:
    now = timezone.now() - timedelta(days=5)
    a, c, g = world.admin_member, world.acme_member, world.globex_member
    uma = member_create(name="Uma Unlisted", role=Role.CUSTOMER, organization=world.acme, listed=False)
    record(actor=c, verb=Verb.POSTED, place_kind="space", place_id=acme_space.pk, origin_id="p1", occurred_at=now)
    record(actor=a, verb=Verb.REPLIED, target_member=c, place_kind="space", place_id=acme_space.pk, origin_id="p2",
           occurred_at=now)  # fmt: skip
    record(actor=g, verb=Verb.REPLIED, target_member=a, place_kind="space", place_id=lounge.pk, origin_id="p3",
           occurred_at=now)  # fmt: skip
    record(actor=uma, verb=Verb.MESSAGED, target_member=g, origin_id="p4", occurred_at=now)
    # Gus's participation in Acme's private space (say, from an old import): he may not see that space.
    record(actor=g, verb=Verb.JOINED_SPACE, place_kind="space", place_id=acme_space.pk, origin_id="p5",
           occurred_at=now)  # fmt: skip
    dan = member_create(name="Dan Ours", email="dan@northwind.example", role=Role.EMPLOYEE, organization=world.ours)
    record(actor=dan, verb=Verb.PROSPECTED, target_member=g, origin_id="p6", occurred_at=now)
    build_map()
    return {"uma": uma, "dan": dan, "acme_space": acme_space, "lounge": lounge}


def _json(resp: Any) -> Any:
    body = resp.content
    if resp.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


def test_the_whole_map_is_for_staff(mapped: dict[str, Any], admin_client: Client, globex_client: Client) -> None:
    page = admin_client.get("/map/")
    assert page.status_code == 200 and b"data-map" in page.content and b"map/map.js" in page.content
    data = _json(admin_client.get("/map/data.json"))
    assert len(data["nodes"]["label"]) == Map.objects.get(label="").node_count
    assert len(data["lines"]["s"]) == Map.objects.get(label="").line_count
    assert mapped["acme_space"].name in data["nodes"]["label"]
    for path in ("/map/", "/map/data.json", "/map/snapshots/", "/map/compare/", "/map/export/?format=csv"):
        assert globex_client.get(path).status_code == 404, path
    assert Client().get("/map/").status_code == 302  # visitors are sent to log in


def test_a_member_sees_only_their_own_ego_map_through_the_gate(
    mapped: dict[str, Any], world: World, globex_client: Client, admin_client: Client
) -> None:
    gus = world.globex_member
    own = _json(globex_client.get(f"/map/people/{gus.pk}.json"))
    labels = set(own["nodes"]["label"])
    assert gus.name in labels and world.admin_member.name in labels
    assert "Uma Unlisted" not in labels  # not listed, not his colleague
    assert mapped["acme_space"].name not in labels  # Acme's private space
    assert "Dan Ours" not in labels  # his only line to Gus is prospecting
    assert all(own["lineKinds"][k] != "prospecting" for k in own["lines"]["k"])
    # Other people's and organisations' ego maps are not his to see.
    assert globex_client.get(f"/map/people/{world.acme_member.pk}.json").status_code == 404
    assert globex_client.get(f"/map/organizations/{world.globex.pk}.json").status_code == 404
    # Staff see everything around Gus.
    full = _json(admin_client.get(f"/map/people/{gus.pk}.json"))
    assert {"Uma Unlisted", mapped["acme_space"].name, "Dan Ours"} <= set(full["nodes"]["label"])
    # The ego map sits on the pages.
    assert b"data-map" in globex_client.get(f"/people/{gus.pk}/").content
    assert b"data-map" not in globex_client.get(f"/people/{world.admin_member.pk}/").content
    assert b"data-map" in admin_client.get(f"/organizations/{world.acme.pk}/").content


def test_snapshots_compare_and_downloads_from_the_pages(mapped: dict[str, Any], admin_client: Client) -> None:
    resp = admin_client.post("/map/snapshots/new/", {"label": "then", "from": "2020-01-01", "to": "2020-12-31"})
    assert resp.status_code == 302  # no activity then, but the declared relationships were in force
    resp = admin_client.post("/map/snapshots/new/", {"label": "now"})
    assert resp.status_code == 302
    again = admin_client.post("/map/snapshots/new/", {"label": "now"})
    assert again.status_code == 400 and b"exists already" in again.content
    bad = admin_client.post("/map/snapshots/new/", {"label": "x", "from": "not-a-date"})
    assert bad.status_code == 400 and b"is not a date" in bad.content
    page = admin_client.get("/map/compare/?a=now&b=current")
    assert page.status_code == 200 and b"Lines by kind" in page.content
    assert b"no snapshot labelled" in admin_client.get("/map/compare/?a=nope&b=current").content
    assert admin_client.get("/map/snapshots/").status_code == 200
    for fmt in ("graphml", "gexf", "csv", "svg", "png"):
        r = admin_client.get(f"/map/export/?format={fmt}&snapshot=now")
        assert r.status_code == 200 and "attachment" in r["Content-Disposition"], fmt
    assert admin_client.get("/map/export/?format=pdf").status_code == 422
    assert admin_client.get("/map/?snapshot=nope").status_code == 404
    assert admin_client.post("/map/snapshots/delete/", {"label": "now"}).status_code == 302
    assert not Map.objects.filter(label="now").exists()


def test_building_from_the_page(world: World, admin_client: Client) -> None:
    assert b"has not been built yet" in admin_client.get("/map/").content
    resp = admin_client.post("/map/build/", {"window": "365"}, follow=True)
    assert b"Built current map" in resp.content
    resp = admin_client.post("/map/build/", {"window": "0"}, follow=True)
    assert b"between 1 and" in resp.content


def test_the_api(mapped: dict[str, Any], world: World) -> None:
    admin: Api = api_as(world.admin)
    globex: Api = api_as(world.globex_user)
    summary = admin.get("/map")
    assert summary.status == 200 and summary.body["node_count"] > 0
    nodes = admin.get("/map/nodes", kind="member", page_size=2)
    assert nodes.status == 200 and nodes.body["count"] >= 5 and len(nodes.body["items"]) == 2
    assert nodes.body["items"][0]["pagerank"] >= nodes.body["items"][1]["pagerank"]
    assert nodes.body["next"]
    found = admin.get("/map/nodes", q="Uma")
    assert [n["label"] for n in found.body["items"]] == ["Uma Unlisted"]
    idx = found.body["items"][0]["idx"]
    lines = admin.get("/map/lines", node=idx)
    assert lines.status == 200 and lines.body["count"] >= 1
    assert all(idx in (ln["source"], ln["target"]) for ln in lines.body["items"])
    assert admin.get("/map/lines", kind="influence").body["items"][0]["basis"] == ["replied"]

    gus = world.globex_member.pk
    mine = globex.get(f"/map/members/{gus}/neighbourhood")
    assert mine.status == 200 and mine.body["center"]["ref_id"] == gus
    assert "Uma Unlisted" not in {n["label"] for n in mine.body["nodes"]}
    assert all(ln["kind"] != "prospecting" for ln in mine.body["lines"])
    assert globex.get(f"/map/members/{world.acme_member.pk}/neighbourhood").status == 404
    assert globex.get("/map/nodes").status == 404
    assert globex.get("/map").status == 404
    org = admin.get(f"/map/organizations/{world.acme.pk}/neighbourhood")
    assert org.status == 200 and org.body["center"]["kind"] == "org"

    made = admin.post("/map/snapshots", {"label": "api-snap"})
    assert made.status == 201 and made.body["label"] == "api-snap"
    dup = admin.post("/map/snapshots", {"label": "api-snap"})
    assert dup.status == 409 and dup.body["error"]["code"] == "duplicate"
    assert [m["label"] for m in admin.get("/map/snapshots").body] == ["api-snap", ""]
    cmp_ = admin.get("/map/compare", a="api-snap", b="current")
    assert cmp_.status == 200 and set(cmp_.body["lines"]) == {
        "connection", "participation", "influence", "prospecting", "channel"
    }  # fmt: skip
    assert admin.get("/map/compare", a="nope").status == 404
    rebuilt = admin.post("/map/build", {"window_days": 30})
    assert rebuilt.status == 200 and rebuilt.body["label"] == ""
    assert admin.post("/map/build", {"window_days": 0}).status == 422
    assert admin.delete("/map/snapshots/api-snap").status == 204
    assert admin.delete("/map/snapshots/api-snap").status == 404


def test_the_unlisted_person_is_really_on_the_map(mapped: dict[str, Any]) -> None:
    # Guards the gate tests above: Uma is there for staff, so her absence for Gus is the gate's doing.
    from convenor.graph.selectors import node_scores

    assert mapped["uma"].pk in node_scores()
    assert isinstance(mapped["uma"], Member)
