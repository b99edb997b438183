"""Every error the API can give has one shape; a single test holds them all to it."""

from __future__ import annotations

from typing import Any

import pytest

from convenor.core.errors import ErrorCode
from convenor.core.testing import World
from convenor.people import selectors

from .conftest import Api, Response, api_as


def assert_error_shape(resp: Response, status: int, code: ErrorCode) -> dict[str, Any]:
    """Exactly ``{"error": {"code", "message", "fields"}}``, nothing more, nothing less."""
    assert resp.status == status, resp.body
    assert resp.headers["Content-Type"].startswith("application/json")
    assert isinstance(resp.body, dict) and set(resp.body) == {"error"}, resp.body
    error = resp.body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert error["code"] == code.value
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    for name, messages in error["fields"].items():
        assert isinstance(name, str) and name
        assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
    assert "Traceback" not in str(resp.body)
    return dict(error)


def test_every_error_has_the_one_shape(
    world: World, admin_api: Api, acme_api: Api, globex_api: Api, anon_api: Api
) -> None:
    acme_id, carla_id = world.acme.pk, world.acme_member.pk
    cases: list[tuple[Response, int, ErrorCode]] = [
        (anon_api.get("/members"), 401, ErrorCode.NOT_AUTHENTICATED),
        (Api("cnv_not-a-real-token").get("/me"), 401, ErrorCode.NOT_AUTHENTICATED),
        (globex_api.get(f"/members/{carla_id}"), 404, ErrorCode.NOT_FOUND),
        (globex_api.get(f"/organizations/{acme_id}"), 404, ErrorCode.NOT_FOUND),
        (admin_api.get("/members/999999"), 404, ErrorCode.NOT_FOUND),
        (admin_api.get("/no/such/endpoint"), 404, ErrorCode.NOT_FOUND),
        (admin_api.get("/docs"), 404, ErrorCode.NOT_FOUND),
        (admin_api.get("/api/v1/"), 404, ErrorCode.NOT_FOUND),
        (admin_api.get("/members/"), 404, ErrorCode.NOT_FOUND),
        (acme_api.post("/members", {"name": "Someone"}), 403, ErrorCode.PERMISSION_DENIED),
        (admin_api.post("/members", {"name": "X", "role": "wizard"}), 422, ErrorCode.VALIDATION),
        (admin_api.post("/members", {"name": " "}), 422, ErrorCode.VALIDATION),
        (admin_api.get("/members", page=0), 422, ErrorCode.VALIDATION),
        (admin_api.get("/members/not-a-number"), 422, ErrorCode.VALIDATION),
        (admin_api.post("/members", {"name": "C", "email": "carla@acme.example"}), 409, ErrorCode.DUPLICATE),
        (admin_api.post(f"/members/{carla_id}/merge", {"other_id": carla_id}), 422, ErrorCode.MERGE_SELF),
        (admin_api.call("POST", "/members", "{not json"), 400, ErrorCode.BAD_REQUEST),
        (admin_api.call("PUT", "/members", {}), 405, ErrorCode.METHOD_NOT_ALLOWED),
    ]
    for resp, status, code in cases:
        assert_error_shape(resp, status, code)


def test_validation_errors_name_the_plain_field(admin_api: Api) -> None:
    resp = admin_api.post("/members", {"name": "X", "role": "wizard", "interests": ["ok", 3]})
    fields = assert_error_shape(resp, 422, ErrorCode.VALIDATION)["fields"]
    assert set(fields) == {"role", "interests.1"}
    assert "customer" in fields["role"][0]

    resp = admin_api.get("/members", page_size=201)
    assert set(assert_error_shape(resp, 422, ErrorCode.VALIDATION)["fields"]) == {"page_size"}


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer cnv_wrong", "Token cnv_wrong", "Basic dXNlcjpwYXNz"],
)
def test_missing_or_bad_token_is_401(world: World, header: str) -> None:
    api = Api(None)
    if header:
        api.headers = {"Authorization": header}
    resp = api.get("/me")
    assert_error_shape(resp, 401, ErrorCode.NOT_AUTHENTICATED)
    assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_token_of_deactivated_user_is_401(world: World) -> None:
    api = api_as(world.acme_user)
    assert api.get("/me").status == 200
    world.acme_user.is_active = False
    world.acme_user.save()
    assert_error_shape(api.get("/me"), 401, ErrorCode.NOT_AUTHENTICATED)


def test_session_login_is_not_enough(world: World) -> None:
    # Bearer tokens only: a logged-in browser session must not authenticate API calls.
    api = Api(None)
    api.client.force_login(world.admin)
    assert_error_shape(api.get("/me"), 401, ErrorCode.NOT_AUTHENTICATED)


def test_unexpected_error_is_500_without_traceback(admin_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "member_list", boom)
    resp = admin_api.get("/members")
    error = assert_error_shape(resp, 500, ErrorCode.INTERNAL)
    assert "secret internals" not in error["message"]
