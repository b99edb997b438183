"""API test helpers: a client that sends a real bearer token for a world user."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from convenor.core.models import User
from convenor.core.testing import World
from convenor.core.tokens import token_create

BASE = "/api/v1"


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """Calls /api/v1/ as one user, with a token made the way `convenor token create` makes it."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Response:
        url = path if path.startswith("http") or path.startswith(BASE) else BASE + path
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        elif query:
            kwargs["data"] = query
        resp = getattr(self.client, method.lower())(url, **kwargs)
        content = resp.content
        return Response(resp.status_code, json.loads(content) if content else None, {k: v for k, v in resp.items()})

    def get(self, path: str, **query: Any) -> Response:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None) -> Response:
        return self.call("POST", path, {} if body is None else body)

    def patch(self, path: str, body: Any) -> Response:
        return self.call("PATCH", path, body)

    def delete(self, path: str) -> Response:
        return self.call("DELETE", path)


def api_as(user: User) -> Api:
    _, key = token_create(user=user, name="test")
    return Api(key)


@pytest.fixture
def admin_api(world: World) -> Api:
    return api_as(world.admin)


@pytest.fixture
def acme_api(world: World) -> Api:
    return api_as(world.acme_user)


@pytest.fixture
def globex_api(world: World) -> Api:
    return api_as(world.globex_user)


@pytest.fixture
def outsider_api(world: World) -> Api:
    return api_as(world.outsider)


@pytest.fixture
def anon_api(db: None) -> Api:
    return Api(None)
