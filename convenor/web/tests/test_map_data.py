"""The map page's data in its binary form (views_map.map_binary): the same map as the JSON,
read back here the way the browser reads it (a JSON header, then little-endian columns)."""

from __future__ import annotations

import gzip
import json
import struct
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core.testing import World
from convenor.graph.services import build_map
from convenor.people.models import Role
from convenor.people.services import member_create
from convenor.web.views_map import MAGIC, map_binary

pytestmark = pytest.mark.django_db


def _body(resp: Any) -> bytes:
    body: bytes = resp.content
    return gzip.decompress(body) if resp.get("Content-Encoding") == "gzip" else body


def _read(body: bytes) -> dict[str, Any]:
    assert body[:8] == MAGIC
    (length,) = struct.unpack("<I", body[8:12])
    assert (12 + length) % 8 == 0  # the columns start aligned for Float64Array
    data: dict[str, Any] = json.loads(body[12 : 12 + length])
    offset = 12 + length
    for part, count in (("nodes", data["n"]), ("lines", data["e"])):
        data.setdefault(part, {})
        for name, kind in data["columns"][part]:
            dtype = np.dtype("<" + kind)
            data[part][name] = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
            offset += count * dtype.itemsize
    assert offset == len(body)
    return data


@pytest.fixture
def mapped(world: World) -> None:
    now = timezone.now() - timedelta(days=4)
    people = [member_create(name=f"Person {i}", role=Role.CUSTOMER, organization=world.acme) for i in range(6)]
    for i, p in enumerate(people):
        record(actor=p, verb=Verb.REPLIED, target_member=world.acme_member, origin_id=f"r{i}", occurred_at=now)
        record(actor=p, verb=Verb.MESSAGED, target_member=people[i - 1], origin_id=f"m{i}", occurred_at=now)
    record(actor=world.globex_member, verb=Verb.REPLIED, target_member=world.admin_member, origin_id="g")
    build_map()


def test_the_binary_data_is_the_json_data(mapped: None, admin_client: Client) -> None:
    page = admin_client.get("/map/")
    assert b"format=bin" in page.content
    as_json = json.loads(_body(admin_client.get("/map/data.json")))
    resp = admin_client.get("/map/data.json?format=bin", HTTP_ACCEPT_ENCODING="gzip")
    assert resp["Content-Type"] == "application/octet-stream" and resp["Content-Encoding"] == "gzip"
    as_bin = _read(_body(resp))
    assert as_bin["n"] == len(as_json["nodes"]["label"]) >= 8
    assert as_bin["e"] == len(as_json["lines"]["s"]) >= 12
    assert as_bin["nodes"]["label"] == as_json["nodes"]["label"]
    for key in ("kinds", "lineKinds", "roles", "orgs", "communityNames", "window", "focus", "directedKinds"):
        assert as_bin[key] == as_json[key], key
    for part in ("nodes", "lines"):
        for name, kind in as_bin["columns"][part]:
            want = np.asarray(as_json[part][name], dtype=np.float64)
            got = as_bin[part][name].astype(np.float64)
            if kind == "f4":
                assert np.allclose(got, want, rtol=1e-6, atol=1e-4), name
            else:
                assert np.array_equal(got, want), name
    # Served again from the cache, byte for byte; the JSON's cached copy is kept beside it.
    again = admin_client.get("/map/data.json?format=bin")
    assert _body(again) == _body(resp)
    assert json.loads(_body(admin_client.get("/map/data.json"))) == as_json


def test_an_unknown_data_format_is_refused(mapped: None, admin_client: Client, globex_client: Client) -> None:
    resp = admin_client.get("/map/data.json?format=xml")
    assert resp.status_code == 422  # as an unknown export format is
    assert b"Unknown data format" in resp.content
    assert globex_client.get("/map/data.json?format=bin").status_code == 404


def test_ids_beyond_32_bits_stay_exact() -> None:
    """Database ids are 64-bit (PostgreSQL's sequences run past 2**31): a node's `ref` is sent
    as a float64, exact up to 2**53."""
    big = [3_557_098_522, 2**53 - 1, 1]
    payload = {
        "nodes": {
            "label": ["a", "b", "c"], "pr": [0.5, 0.25, 0.25], "br": [0.0] * 3, "ref": big, "x": [0.0] * 3,
            "y": [0.0] * 3, "kind": [0] * 3, "role": [0] * 3, "org": [-1] * 3, "community": [0] * 3, "deg": [1] * 3,
        },
        "lines": {"w": [1.0], "s": [0], "t": [1], "k": [0], "f": [-1], "l": [-1]},
    }  # fmt: skip
    data = _read(map_binary(payload))
    assert [int(r) for r in data["nodes"]["ref"]] == big


def test_a_map_larger_than_the_page_limits_is_drawn_by_its_most_connected_nodes_and_heaviest_lines(
    mapped: None, admin_client: Client, settings: Any
) -> None:
    from convenor.graph.models import Line, Node
    from convenor.graph.selectors import current_map

    m = current_map()
    assert m is not None
    whole = json.loads(_body(admin_client.get("/map/data.json")))
    assert b"data-map-capped" not in admin_client.get("/map/").content
    settings.MAP_PAGE_NODES, settings.MAP_PAGE_LINES = 4, 3
    page = admin_client.get("/map/")
    assert b"data-map-capped" in page.content and b"shows the 4 most connected of its" in page.content
    capped = json.loads(_body(admin_client.get("/map/data.json")))
    assert len(capped["nodes"]["label"]) == 4 and len(capped["lines"]["s"]) == 3
    nodes = Node.objects.filter(map=m)
    want = list(nodes.order_by("-degree", "-pagerank", "idx").values_list("label", flat=True)[:4])
    assert sorted(capped["nodes"]["label"]) == sorted(want)
    # The heaviest lines between the four, each of them also on the whole map.
    picked = set(nodes.order_by("-degree", "-pagerank", "idx").values_list("idx", flat=True)[:4])
    among = Line.objects.filter(map=m, source__in=picked, target__in=picked).order_by("-weight")
    weights = sorted((round(w, 2) for w in among.values_list("weight", flat=True)), reverse=True)[:3]
    assert sorted(capped["lines"]["w"], reverse=True) == weights
    label = capped["nodes"]["label"]
    pairs = {(label[s], label[t]) for s, t in zip(capped["lines"]["s"], capped["lines"]["t"], strict=True)}
    wl = whole["nodes"]["label"]
    assert pairs <= {(wl[s], wl[t]) for s, t in zip(whole["lines"]["s"], whole["lines"]["t"], strict=True)}
    # Fewer lines than the map's but every node: the page says which part it draws.
    settings.MAP_PAGE_NODES = 1_000
    assert b"heaviest of its" in admin_client.get("/map/").content
    assert len(json.loads(_body(admin_client.get("/map/data.json")))["nodes"]["label"]) == len(wl)
