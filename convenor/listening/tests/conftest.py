"""Fixtures for listening: the sample files, brands, a Slack export built from JSON, and a
local HTTP server (never the internet)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from convenor.core.testing import World
from convenor.listening import slack_export
from convenor.listening.models import BrandAlias
from convenor.people.models import Organization, OrgKind
from convenor.people.services import organization_create

SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture(autouse=True)
def _imports_inline(settings: Any) -> None:
    # Web uploads import inside the request in these tests (the browser test runs them in
    # the background thread, as in production).
    settings.LISTENING_BACKGROUND_IMPORTS = False


@dataclass
class Brands:
    ours: Organization
    contoso: Organization


@pytest.fixture
def brands(world: World) -> Brands:
    contoso = organization_create(
        name="Contoso", kind=OrgKind.COMPETITOR, domains=["contoso.example"], industry="Software"
    )
    BrandAlias.objects.create(organization=world.ours, alias="Northwind")
    BrandAlias.objects.create(organization=contoso, alias="Contoso Flow")
    Organization.objects.filter(pk=world.acme.pk).update(industry="Retail")
    Organization.objects.filter(pk=world.globex.pk).update(industry="Logistics")
    return Brands(ours=world.ours, contoso=contoso)


def slack_days() -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {
        ("general", "2026-02-01"): [
            {
                "type": "message",
                "subtype": "channel_join",
                "user": "U01",
                "text": "<@U01> has joined the channel",
                "ts": "1769904000.000100",
            },
            {
                "type": "message",
                "user": "U01",
                "text": "Anyone running Northwind for nightly backfills? <@U02>",
                "ts": "1769904100.000200",
                "reactions": [{"name": "eyes", "users": ["U02", "U03"], "count": 2}],
            },
            {
                "type": "message",
                "user": "U02",
                "text": "Yes! Northwind is great for it.",
                "ts": "1769904200.000300",
                "thread_ts": "1769904100.000200",
                "parent_user_id": "U01",
            },
            {
                "type": "message",
                "user": "U03",
                "text": "We tried Contoso Flow, it was slow and painful.",
                "ts": "1769904300.000400",
                "thread_ts": "1769904100.000200",
            },
            {
                "type": "message",
                "subtype": "bot_message",
                "bot_id": "B1",
                "text": "Daily digest",
                "ts": "1769904400.000500",
            },
            {"type": "message", "text": "no user here", "ts": "1769904500.000600"},
        ],
        ("general", "2026-02-02"): [
            {
                "type": "message",
                "user": "U04",
                "text": "Lineage graphs for dbt models, anyone? See <https://example.org|this>",
                "ts": "1769990400.000100",
            },
        ],
        ("random", "2026-03-01"): [
            {"type": "message", "user": "U02", "text": "Coffee meetup in Lyon next week", "ts": "1772323200.000100"},
        ],
    }


def slack_users() -> list[dict[str, Any]]:
    return [
        slack_export.user("U01", "Carla Acme", "carla@acme.example", "carla"),
        slack_export.user("U02", "Nina Novak", "nina@globex.example", "nina"),
        slack_export.user("U03", "Omar Haddad", "", "omar"),
        slack_export.user("U04", "Globe Person", "", "gp"),
        {"id": "B1", "name": "digestbot", "is_bot": True, "profile": {}},
    ]


@pytest.fixture
def slack_zip(tmp_path: Path) -> Path:
    return slack_export.write(
        tmp_path / "acme-community.zip",
        users=slack_users(),
        channels=[{"id": "C01", "name": "general"}, {"id": "C02", "name": "random"}],
        days=slack_days(),
    )


@dataclass
class Served:
    """A local web server answering from `pages` (path -> body); records request headers."""

    base: str
    pages: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0

    def add(self, path: str, body: bytes, **headers: str) -> str:
        self.pages[path] = (body, headers)
        return self.base + path


@pytest.fixture
def http_server() -> Iterator[Served]:
    served = Served(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            served.requests.append((self.path, dict(self.headers.items())))
            if served.delay:
                import time

                time.sleep(served.delay)
            page = served.pages.get(self.path)
            if page is None:
                self.send_response(404)
                self.end_headers()
                return
            body, headers = page
            etag = headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
