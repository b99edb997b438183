"""The OpenAPI document is complete, and docs/api.md documents every endpoint in it."""

from __future__ import annotations

from pathlib import Path

from django.test import Client

from convenor.core.errors import ErrorCode
from convenor.core.testing import World

from .conftest import Api

DOCS = Path(__file__).resolve().parents[3] / "docs" / "api.md"

ENDPOINTS = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/members"),
    ("post", "/api/v1/members"),
    ("get", "/api/v1/members/{member_id}"),
    ("patch", "/api/v1/members/{member_id}"),
    ("post", "/api/v1/members/{member_id}/merge"),
    ("get", "/api/v1/organizations"),
    ("post", "/api/v1/organizations"),
    ("get", "/api/v1/organizations/{organization_id}"),
    ("patch", "/api/v1/organizations/{organization_id}"),
    ("get", "/api/v1/relationships"),
    ("post", "/api/v1/relationships"),
    ("get", "/api/v1/relationships/{relationship_id}"),
    ("delete", "/api/v1/relationships/{relationship_id}"),
    ("get", "/api/v1/spaces"),
    ("post", "/api/v1/spaces"),
    ("post", "/api/v1/organizations/{organization_id}/private-space"),
    ("get", "/api/v1/spaces/{space_id}"),
    ("post", "/api/v1/spaces/{space_id}/join"),
    ("post", "/api/v1/spaces/{space_id}/leave"),
    ("post", "/api/v1/spaces/{space_id}/follow"),
    ("delete", "/api/v1/spaces/{space_id}/follow"),
    ("get", "/api/v1/spaces/{space_id}/threads"),
    ("post", "/api/v1/spaces/{space_id}/threads"),
    ("get", "/api/v1/threads/{thread_id}"),
    ("patch", "/api/v1/threads/{thread_id}"),
    ("post", "/api/v1/threads/{thread_id}/accept"),
    ("post", "/api/v1/threads/{thread_id}/follow"),
    ("delete", "/api/v1/threads/{thread_id}/follow"),
    ("get", "/api/v1/threads/{thread_id}/posts"),
    ("post", "/api/v1/threads/{thread_id}/posts"),
    ("get", "/api/v1/posts/{post_id}"),
    ("patch", "/api/v1/posts/{post_id}"),
    ("get", "/api/v1/posts/{post_id}/revisions"),
    ("post", "/api/v1/posts/{post_id}/reactions"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/read"),
    ("get", "/api/v1/notifications/unread-count"),
    ("get", "/api/v1/events"),
    ("post", "/api/v1/events"),
    ("post", "/api/v1/events/series"),
    ("get", "/api/v1/events/series/{series_id}"),
    ("post", "/api/v1/events/series/{series_id}/extend"),
    ("get", "/api/v1/events/report"),
    ("post", "/api/v1/events/{event_id}/invitations"),
    ("post", "/api/v1/events/{event_id}/release"),
    ("get", "/api/v1/events/{event_id}"),
    ("patch", "/api/v1/events/{event_id}"),
    ("post", "/api/v1/events/{event_id}/cancel"),
    ("get", "/api/v1/events/{event_id}/registrations"),
    ("post", "/api/v1/events/{event_id}/registrations"),
    ("get", "/api/v1/events/{event_id}/dashboard"),
    ("delete", "/api/v1/registrations/{registration_id}"),
    ("post", "/api/v1/registrations/{registration_id}/checkin"),
    ("post", "/api/v1/registrations/{registration_id}/no-show"),
    ("post", "/api/v1/registrations/{registration_id}/survey"),
    ("post", "/api/v1/charter/score"),
    ("get", "/api/v1/moderation/queue"),
    ("post", "/api/v1/moderation/{post_id}/decision"),
    ("get", "/api/v1/boards"),
    ("post", "/api/v1/boards"),
    ("get", "/api/v1/boards/{board_id}"),
    ("get", "/api/v1/ideas"),
    ("post", "/api/v1/ideas"),
    ("get", "/api/v1/ideas/demand"),
    ("get", "/api/v1/ideas/changelog"),
    ("get", "/api/v1/ideas/{idea_id}"),
    ("post", "/api/v1/ideas/{idea_id}/sources"),
    ("post", "/api/v1/ideas/{idea_id}/votes"),
    ("delete", "/api/v1/ideas/{idea_id}/votes"),
    ("post", "/api/v1/ideas/{idea_id}/follow"),
    ("delete", "/api/v1/ideas/{idea_id}/follow"),
    ("get", "/api/v1/ideas/{idea_id}/comments"),
    ("post", "/api/v1/ideas/{idea_id}/comments"),
    ("get", "/api/v1/ideas/{idea_id}/status-changes"),
    ("post", "/api/v1/ideas/{idea_id}/status-changes"),
    ("post", "/api/v1/ideas/{idea_id}/merge"),
    ("get", "/api/v1/hotgroups/topics"),
    ("get", "/api/v1/hotgroups/suggestions"),
    ("post", "/api/v1/hotgroups/suggestions"),
    ("get", "/api/v1/hotgroups/suggestions/{suggestion_id}"),
    ("post", "/api/v1/hotgroups/suggestions/{suggestion_id}/convene"),
    ("get", "/api/v1/hotgroups/groups"),
    ("get", "/api/v1/hotgroups/groups/{group_id}"),
    ("post", "/api/v1/hotgroups/groups/{group_id}/accept"),
    ("post", "/api/v1/hotgroups/groups/{group_id}/decline"),
    ("post", "/api/v1/hotgroups/groups/{group_id}/leave"),
    ("post", "/api/v1/hotgroups/groups/{group_id}/members"),
    ("delete", "/api/v1/hotgroups/groups/{group_id}/members/{member_id}"),
    ("get", "/api/v1/hotgroups/groups/{group_id}/health"),
    ("post", "/api/v1/hotgroups/groups/{group_id}/spread"),
    ("post", "/api/v1/posts/{post_id}/review"),
    ("post", "/api/v1/posts/{post_id}/move"),
    ("get", "/api/v1/listening/sources"),
    ("post", "/api/v1/listening/sources"),
    ("get", "/api/v1/listening/sources/{source_id}"),
    ("post", "/api/v1/listening/sources/{source_id}/refresh"),
    ("get", "/api/v1/listening/posts"),
    ("get", "/api/v1/listening/posts/{post_id}"),
    ("get", "/api/v1/listening/runs"),
    ("get", "/api/v1/listening/runs/{run_id}"),
    ("get", "/api/v1/listening/share-of-voice"),
    ("get", "/api/v1/listening/hangouts"),
    ("post", "/api/v1/listening/aliases"),
    ("delete", "/api/v1/listening/aliases/{alias_id}"),
    ("get", "/api/v1/map"),
    ("get", "/api/v1/map/nodes"),
    ("get", "/api/v1/map/lines"),
    ("get", "/api/v1/map/members/{member_id}/neighbourhood"),
    ("get", "/api/v1/map/organizations/{org_id}/neighbourhood"),
    ("get", "/api/v1/map/snapshots"),
    ("post", "/api/v1/map/snapshots"),
    ("delete", "/api/v1/map/snapshots/{label}"),
    ("get", "/api/v1/map/compare"),
    ("post", "/api/v1/map/build"),
    ("post", "/api/v1/map/update"),
}


def operations(schema: dict[str, object]) -> set[tuple[str, str]]:
    paths = schema["paths"]
    assert isinstance(paths, dict)
    return {(method, path) for path, ops in paths.items() for method in ops}


def test_openapi_document_loads_without_a_token_and_lists_every_endpoint(db: None) -> None:
    resp = Client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    schema = resp.json()
    assert schema["openapi"].startswith("3.1")
    assert operations(schema) == ENDPOINTS
    assert schema["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert op["security"] == [{"BearerToken": []}], (method, path)
            assert "401" in op["responses"], (method, path)


def test_there_is_no_docs_page_that_would_load_a_cdn(world: World, admin_api: Api) -> None:
    assert admin_api.get("/docs").status == 404


def test_every_endpoint_is_documented_in_docs_api_md(db: None) -> None:
    docs = DOCS.read_text()
    schema = Client().get("/api/v1/openapi.json").json()
    missing = [
        f"{method.upper()} {path}"
        for method, path in sorted(operations(schema))
        if f"{method.upper()} {path.removeprefix('/api/v1')}" not in docs
    ]
    assert not missing, f"Document these in docs/api.md: {missing}"


def test_every_error_code_is_documented(db: None) -> None:
    docs = DOCS.read_text()
    missing = [code.value for code in ErrorCode if f"`{code.value}`" not in docs]
    assert not missing, f"Add these error codes to the table in docs/api.md: {missing}"
