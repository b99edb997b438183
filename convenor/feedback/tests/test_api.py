"""The feedback API: boards, ideas, votes, comments, status changes, merges; who sees what."""

from __future__ import annotations

import pytest

from convenor.api.tests.conftest import Api, api_as
from convenor.core.testing import World
from convenor.feedback import services
from convenor.feedback.models import Board, Idea
from convenor.spaces.models import Thread
from convenor.spaces.selectors import opening_post


@pytest.fixture
def admin_api(world: World) -> Api:
    return api_as(world.admin)


@pytest.fixture
def acme_api(world: World) -> Api:
    return api_as(world.acme_user)


@pytest.fixture
def globex_api(world: World) -> Api:
    return api_as(world.globex_user)


def test_boards_and_ideas_respect_the_gate(
    world: World, acme_board: Board, public_board: Board, acme_api: Api, globex_api: Api
) -> None:
    secret = services.idea_create(board=acme_board, author=world.acme_member, title="Acme secret")
    assert {b["name"] for b in globex_api.get("/boards").body["items"]} == {"Product ideas"}
    assert {b["name"] for b in acme_api.get("/boards").body["items"]} == {"Product ideas", "Acme roadmap"}
    assert globex_api.get(f"/boards/{acme_board.pk}").status == 404
    assert globex_api.get(f"/ideas/{secret.pk}").body["error"]["code"] == "not_found"
    assert globex_api.get("/ideas", board_id=acme_board.pk).status == 404
    assert globex_api.get("/ideas").body["count"] == 0
    assert globex_api.post(f"/ideas/{secret.pk}/votes", {}).status == 404
    assert acme_api.get("/ideas").body["items"][0]["title"] == "Acme secret"
    assert globex_api.post("/boards", {"name": "Mine"}).status == 403
    assert globex_api.get("/ideas/demand").status == 404


def test_submit_vote_twice_comment_and_status(
    world: World, public_board: Board, admin_api: Api, acme_api: Api, globex_api: Api
) -> None:
    resp = acme_api.post("/ideas", {"board_id": public_board.pk, "title": ""})
    assert resp.status == 422 and resp.body["error"]["fields"] == {"title": ["This field is required"]}
    resp = acme_api.post("/ideas", {"board_id": public_board.pk, "title": "Dark mode", "description": "Eyes"})
    assert resp.status == 201
    idea_id = resp.body["id"]
    assert resp.body["author"]["name"] == "Carla Acme" and resp.body["following"] is True
    resp = globex_api.post(f"/ideas/{idea_id}/votes", {"importance": 2})
    assert resp.status == 201 and resp.body["vote_count"] == 1
    again = globex_api.post(f"/ideas/{idea_id}/votes", {"importance": 2})
    assert again.status == 409 and again.body["error"]["code"] == "duplicate"
    assert globex_api.post(f"/ideas/{idea_id}/votes", {"importance": 9}).status == 422
    assert globex_api.get(f"/ideas/{idea_id}").body["my_vote"] == 2
    assert globex_api.post(f"/ideas/{idea_id}/comments", {"body": "+1"}).status == 201
    assert globex_api.get(f"/ideas/{idea_id}/comments").body["items"][0]["body"] == "+1"
    assert acme_api.post(f"/ideas/{idea_id}/status-changes", {"status": "planned"}).status == 403
    resp = admin_api.post(f"/ideas/{idea_id}/status-changes", {"status": "declined", "note": "Not now"})
    assert resp.status == 201 and resp.body["loop"]["notified"] == 2
    assert admin_api.get(f"/ideas/{idea_id}/status-changes").body["items"][0]["note"] == "Not now"
    refused = acme_api.post(f"/ideas/{idea_id}/votes", {})
    assert refused.status == 409 and "declined" in refused.body["error"]["message"]
    assert globex_api.delete(f"/ideas/{idea_id}/votes").status == 204
    assert globex_api.get(f"/ideas/{idea_id}").body["vote_count"] == 0
    assert globex_api.delete(f"/ideas/{idea_id}/follow").body == {"following": False}


def test_post_to_idea_merge_demand_and_changelog(
    world: World, public_board: Board, lounge_thread: Thread, admin_api: Api, acme_api: Api
) -> None:
    post = opening_post(thread=lounge_thread)
    assert post is not None
    resp = admin_api.post("/ideas", {"board_id": public_board.pk, "title": "CSV export", "post_id": post.pk})
    assert resp.status == 201 and resp.body["author"]["name"] == "Carla Acme"
    assert resp.body["sources"][0]["post_id"] == post.pk
    other = services.idea_create(board=public_board, author=world.globex_member, title="Export CSV")
    assert admin_api.post(f"/ideas/{other.pk}/sources", {"post_id": post.pk}).status == 201
    assert admin_api.post(f"/ideas/{other.pk}/sources", {"post_id": post.pk}).status == 409
    acme_api.post(f"/ideas/{other.pk}/votes", {})
    assert admin_api.post(f"/ideas/{other.pk}/merge", {"target_id": other.pk}).body["error"]["code"] == "merge_self"
    merged = admin_api.post(f"/ideas/{other.pk}/merge", {"target_id": resp.body["id"]})
    assert merged.status == 200 and merged.body["vote_count"] == 1
    assert Idea.objects.get(pk=other.pk).merged_into_id == resp.body["id"]
    demand = admin_api.get("/ideas/demand").body
    assert demand["items"][0]["idea"]["title"] == "CSV export" and demand["items"][0]["spaces"] == ["Users lounge"]
    admin_api.post(f"/ideas/{resp.body['id']}/status-changes", {"status": "shipped", "note": "Done"})
    assert [i["title"] for i in acme_api.get("/ideas/changelog").body["items"]] == ["CSV export"]
    assert admin_api.post("/boards", {"name": "Acme only", "visibility": "account"}).status == 422
    made = admin_api.post("/boards", {"name": "Acme only", "visibility": "account", "organization_id": world.acme.pk})
    assert made.status == 201 and made.body["organization_id"] == world.acme.pk
