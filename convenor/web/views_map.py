"""Pages of the community map: the interactive map, its data, ego maps, snapshots, the
year-over-year comparison and downloads.

The whole map is for staff (core/access.py `can_see_map`); a member sees their own ego map
only. Reads go through convenor.graph.selectors, writes through convenor.graph.services.
"""

from __future__ import annotations

import functools
import gzip
import json
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from convenor.core import access
from convenor.core.errors import ApplicationError, ErrorCode, invalid, not_found
from convenor.graph import selectors, services
from convenor.graph.compare import compare, map_by_name
from convenor.graph.exports import FORMATS
from convenor.graph.exports import render as export_bytes
from convenor.graph.models import LineKind, Map, NodeKind
from convenor.web.errors import error_page
from convenor.web.views import _viewer

View = Callable[..., HttpResponse]


def _page_errors(view: View) -> View:
    """Answer an ApplicationError as the other pages do (web/errors.py maps only its own
    namespaces): log in, the 404 page, or the message with its status."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as err:
            if err.code == ErrorCode.NOT_AUTHENTICATED:
                return redirect_to_login(request.get_full_path())
            return error_page(request, err.status, err.message)

    return wrapped


CONTENT_TYPES = {
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "csv": "text/csv; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
}


def _json(payload: dict[str, Any], request: HttpRequest) -> HttpResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    if len(body) > 100_000 and "gzip" in request.headers.get("Accept-Encoding", ""):
        resp = HttpResponse(gzip.compress(body, 5), content_type="application/json")
        resp["Content-Encoding"] = "gzip"
    else:
        resp = HttpResponse(body, content_type="application/json")
    resp["Cache-Control"] = "private, max-age=60"
    return resp


def _map_or_404(name: str) -> Map:
    return map_by_name(name or "current")


@_page_errors
@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    name = request.GET.get("snapshot", "")
    maps = selectors.map_list()
    current = None
    try:
        current = _map_or_404(name)
    except ApplicationError:
        if name:
            raise
    # The data's address names the map's last refresh, so a browser never keeps an outdated copy.
    version = int(current.refreshed_at.timestamp() * 1_000_000) if current else 0
    query: dict[str, str | int] = {"snapshot": name} if name else {}
    query.update(v=version, format="bin")
    data_url = reverse("map:data") + "?" + urlencode(query)
    return render(
        request,
        "web/map/index.html",
        {
            "current": current,
            "maps": maps,
            "snapshot": name,
            "data_url": data_url,
            "line_kinds": LineKind.choices,
            "formats": FORMATS,
            "default_window": 365,
            "page_limits": selectors.page_limits(),
        },
    )


# The map page reads its data as one binary document (``?format=bin``) rather than JSON: the
# browser takes the numeric columns as typed arrays over the downloaded bytes, with nothing to
# parse. Layout: the 8 bytes MAGIC; a little-endian uint32, the length of a UTF-8 JSON header,
# padded with spaces so that the columns start on a multiple of 8; then the columns, each a
# little-endian array of its header's type, nodes ("n" items each) then lines ("e" items each).
# The header is the JSON payload without its columns (labels stay in it, under nodes.label),
# plus "n", "e" and "columns" ([name, type] in order, type one of f8, f4, i4).
MAGIC = b"CVMAP1\0\0"
# A node's `ref` is a database id (64 bits): as a float64 it stays exact up to 2**53.
NODE_COLUMNS = (("pr", "f8"), ("br", "f8"), ("ref", "f8"), ("x", "f4"), ("y", "f4"), ("kind", "i4"),
                ("role", "i4"), ("org", "i4"), ("community", "i4"), ("deg", "i4"))  # fmt: skip
LINE_COLUMNS = (("w", "f4"), ("s", "i4"), ("t", "i4"), ("k", "i4"), ("f", "i4"), ("l", "i4"))
DATA_FORMATS = {"json": ("json", "application/json"), "bin": ("bin", "application/octet-stream")}


def map_binary(payload: dict[str, Any]) -> bytes:
    """`payload` (selectors.map_payload) as the binary document described above."""
    nodes, lines = payload["nodes"], payload["lines"]
    head = {k: v for k, v in payload.items() if k not in ("nodes", "lines")}
    head.update(
        n=len(nodes["label"]),
        e=len(lines["s"]),
        nodes={"label": nodes["label"]},
        columns={"nodes": NODE_COLUMNS, "lines": LINE_COLUMNS},
    )
    text = json.dumps(head, separators=(",", ":")).encode()
    text += b" " * (-(len(MAGIC) + 4 + len(text)) % 8)
    parts = [MAGIC, struct.pack("<I", len(text)), text]
    parts += [np.asarray(nodes[name], dtype="<" + t).tobytes() for name, t in NODE_COLUMNS]
    parts += [np.asarray(lines[name], dtype="<" + t).tobytes() for name, t in LINE_COLUMNS]
    return b"".join(parts)


@_page_errors
@require_GET
def map_data(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    m = _map_or_404(request.GET.get("snapshot", ""))
    fmt = request.GET.get("format", "json")
    if fmt not in DATA_FORMATS:
        raise invalid(f"Unknown data format {fmt!r}; use one of {', '.join(DATA_FORMATS)}.", format=fmt)
    suffix, content_type = DATA_FORMATS[fmt]
    # The payload of a stored map changes only when it is rebuilt or updated: cache it on disk,
    # compressed, by map, time of its last refresh and format.
    folder = settings.DATA_DIR / "map-cache"
    most_nodes, most_lines = selectors.page_limits()
    stamp = f"{m.pk}-{int(m.refreshed_at.timestamp() * 1_000_000)}-{most_nodes}x{most_lines}"
    path = folder / f"{stamp}.{suffix}.gz"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for old in [*folder.glob(f"{m.pk}-*.json.gz"), *folder.glob(f"{m.pk}-*.bin.gz")]:
            if not old.name.startswith(stamp + "."):
                old.unlink(missing_ok=True)
        payload = selectors.map_payload(m)
        body = map_binary(payload) if fmt == "bin" else json.dumps(payload, separators=(",", ":")).encode()
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(gzip.compress(body, 5))
        tmp.replace(path)
    data = path.read_bytes()
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        resp = HttpResponse(data, content_type=content_type)
        resp["Content-Encoding"] = "gzip"
    else:
        resp = HttpResponse(gzip.decompress(data), content_type=content_type)
    resp["Cache-Control"] = "private, max-age=60"
    return resp


def _ego(request: HttpRequest, kind: str, ref_id: int) -> HttpResponse:
    me = _viewer(request)
    if kind == NodeKind.MEMBER:
        member = access.member_for_view(me, ref_id)
        allowed = access.can_see_ego_map(me, member=member)
    else:
        org = access.organization_for_view(me, ref_id)
        allowed = access.can_see_ego_map(me, organization=org)
    if not allowed:
        raise not_found()
    m = selectors.current_map()
    center = selectors.node_by_ref(m, kind, ref_id) if m else None
    if m is None or center is None:
        return _json({"nodes": {"label": []}, "lines": {"s": []}}, request)
    staff = access.can_see_map(me)
    payload = selectors.map_payload(
        m,
        center=center,
        visible=None if staff else (lambda k, ids: access.visible_map_refs(me, k, ids)),
        hide_kinds=() if staff else (LineKind.PROSPECTING,),
    )
    return _json(payload, request)


@_page_errors
@require_GET
def member_ego(request: HttpRequest, member_id: int) -> HttpResponse:
    return _ego(request, NodeKind.MEMBER, member_id)


@_page_errors
@require_GET
def org_ego(request: HttpRequest, org_id: int) -> HttpResponse:
    return _ego(request, NodeKind.ORGANIZATION, org_id)


@_page_errors
@require_POST
def map_build(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    try:
        days = int(request.POST.get("window", "365"))
    except ValueError:
        days = -1
    try:
        result = services.build_map(window_days=days)
    except ApplicationError as err:
        messages.error(request, err.message)
        return redirect("map:index")
    messages.success(request, result.summary())
    return redirect("map:index")


@_page_errors
@require_POST
def map_update(request: HttpRequest) -> HttpResponse:
    """The daily update, run now: fold what is new since the last build or update into the map."""
    access.require_map(_viewer(request))
    try:
        result = services.update_map()
    except ApplicationError as err:
        messages.error(request, err.message)
        return redirect("map:index")
    messages.success(request, result.summary())
    return redirect("map:index")


def _parse_day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise invalid(f"{text!r} is not a date (YYYY-MM-DD).", **{field: text}) from exc


@_page_errors
@require_GET
def snapshot_list(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    maps = selectors.map_list()
    return render(request, "web/map/snapshots.html", {"maps": maps, "today": date.today()})


@_page_errors
@require_POST
def snapshot_create(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    label = request.POST.get("label", "")
    try:
        day_from = _parse_day(request.POST.get("from", ""), "from")
        day_to = _parse_day(request.POST.get("to", ""), "to")
        end = datetime.combine(day_to, time.max, tzinfo=UTC) if day_to else None
        start = datetime.combine(day_from, time.min, tzinfo=UTC) if day_from else None
        if start and not end:
            end = min(datetime.now(tz=UTC), start + timedelta(days=365))
        result = services.snapshot_create(label=label, start=start, end=end)
    except ApplicationError as err:
        maps = selectors.map_list()
        return render(
            request,
            "web/map/snapshots.html",
            {"maps": maps, "error": err.message, "form": request.POST, "today": date.today()},
            status=400,
        )
    messages.success(request, result.summary())
    return redirect("map:snapshots")


@_page_errors
@require_POST
def snapshot_delete(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    label = request.POST.get("label", "")
    services.snapshot_delete(label=label)
    messages.success(request, f"Deleted the snapshot '{label}'.")
    return redirect("map:snapshots")


@_page_errors
@require_GET
def compare_page(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    maps = selectors.map_list()
    snapshots = [m for m in maps if m.label]
    a = request.GET.get("a", "")
    b = request.GET.get("b", "")
    if not a and not b and snapshots:
        # Year over year by default: the latest snapshot against the current map (or the one before).
        a = snapshots[0].label
        b = "current" if any(not m.label for m in maps) else (snapshots[1].label if len(snapshots) > 1 else "")
    result = None
    error = ""
    if a and b:
        try:
            result = compare(map_by_name(a), map_by_name(b))
        except ApplicationError as err:
            error = err.message
    return render(
        request,
        "web/map/compare.html",
        {"maps": maps, "a": a, "b": b, "result": result, "error": error},
    )


@_page_errors
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    access.require_map(_viewer(request))
    fmt = request.GET.get("format", "")
    if fmt not in FORMATS:
        raise invalid(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.", format=fmt)
    m = _map_or_404(request.GET.get("snapshot", ""))
    body = export_bytes(m, fmt)
    resp = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    name = (m.label or "current").replace('"', "")
    resp["Content-Disposition"] = f'attachment; filename="convenor-map-{name}.{fmt}"'
    return resp
