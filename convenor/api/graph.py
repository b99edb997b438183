"""The map in the JSON API: the map's nodes and lines (filtered, paginated), a person's or an
organisation's neighbourhood, snapshots and their comparison, and rebuilding.

The whole map is for staff; a member may read their own neighbourhood only (core/access.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from convenor.core import access
from convenor.core.errors import invalid, not_found
from convenor.graph import selectors, services
from convenor.graph.build import basis_names
from convenor.graph.compare import compare, map_by_name
from convenor.graph.models import Line, LineKind, Map, Node, NodeKind

from .auth import viewer
from .pagination import Page, PageParams, paginate
from .schemas import ERRORS

router = Router(tags=["map"])


class MapOut(Schema):
    label: str = Field(description="The snapshot's label; empty for the current map.")
    window_from: datetime
    window_to: datetime
    built_at: datetime = Field(description="When its full build ran.")
    updated_at: datetime | None = Field(None, description="When the daily update last ran on it, if ever.")
    node_count: int
    line_count: int
    community_count: int
    seconds: dict[str, float] = Field(description="What the build took, by phase.")


class NodeOut(Schema):
    idx: int = Field(description="The node's position on this map; lines name their ends by it.")
    kind: str
    ref_id: int = Field(description="The member's, organisation's, space's or event's id.")
    label: str
    role: str
    org_id: int | None
    community: int | None
    pagerank: float
    brokerage: float
    degree: int
    deg_connection: int
    deg_participation: int
    deg_influence: int
    deg_prospecting: int
    deg_channel: int
    reach2: int
    internal_ties: int
    external_ties: int
    x: float
    y: float


class LineOut(Schema):
    kind: str
    source: int
    target: int
    directed: bool
    weight: float
    evidence: int
    first_seen: datetime | None
    last_seen: datetime | None
    basis: list[str]

    @staticmethod
    def resolve_basis(obj: Line) -> list[str]:
        return basis_names(obj.basis)


class NodePage(Page):
    items: list[NodeOut]


class LinePage(Page):
    items: list[LineOut]


class NodeFilters(Schema):
    snapshot: str = Field("", description="A snapshot's label; empty for the current map.")
    kind: NodeKind | None = None
    role: str = ""
    organization: int | None = Field(None, description="Nodes of this organisation (its people and itself).")
    community: int | None = None
    q: str = Field("", description="Part of the name.")


class LineFilters(Schema):
    snapshot: str = ""
    kind: LineKind | None = None
    node: int | None = Field(None, description="Lines at this node (its idx).")


class NeighbourhoodOut(Schema):
    center: NodeOut
    nodes: list[NodeOut]
    lines: list[LineOut]


class SnapshotIn(Schema):
    label: str = Field(max_length=60)
    date_from: date | None = Field(None, description="First day; default a year before `date_to`.")
    date_to: date | None = Field(None, description="Last day; default today.")


class BuildIn(Schema):
    window_days: int = Field(365, description="Days of activity to map, up to now.")


class CompareOut(Schema):
    before: dict[str, Any]
    after: dict[str, Any]
    lines: dict[str, dict[str, int]]
    people_rising: list[dict[str, Any]]
    people_falling: list[dict[str, Any]]
    organizations_rising: list[dict[str, Any]]
    organizations_falling: list[dict[str, Any]]
    communities_split: list[dict[str, Any]]
    communities_merged: list[dict[str, Any]]
    newly_bridged_organizations: list[dict[str, Any]]


def _staff(request: HttpRequest) -> None:
    if not access.can_see_map(viewer(request)):
        raise not_found()


@router.get("/map", response={200: MapOut, **ERRORS})
def map_detail(request: HttpRequest, snapshot: str = "") -> Map:
    """The current map's (or a snapshot's) figures."""
    _staff(request)
    return map_by_name(snapshot)


@router.get("/map/nodes", response={200: NodePage, **ERRORS})
def node_list(request: HttpRequest, filters: Query[NodeFilters], page: Query[PageParams]) -> dict[str, Any]:
    """The map's nodes, most influential first."""
    _staff(request)
    m = map_by_name(filters.snapshot)
    qs = selectors.map_nodes(
        m,
        kind=str(filters.kind or ""),
        role=filters.role,
        organization=filters.organization,
        community=filters.community,
        q=filters.q.strip(),
    )
    return paginate(request, qs, page)


@router.get("/map/lines", response={200: LinePage, **ERRORS})
def line_list(request: HttpRequest, filters: Query[LineFilters], page: Query[PageParams]) -> dict[str, Any]:
    """The map's lines (ends are node idx values)."""
    _staff(request)
    m = map_by_name(filters.snapshot)
    return paginate(request, selectors.map_lines(m, kind=str(filters.kind or ""), node=filters.node), page)


def _neighbourhood(request: HttpRequest, kind: str, ref_id: int, limit: int) -> dict[str, Any]:
    me = viewer(request)
    if kind == NodeKind.MEMBER:
        allowed = access.can_see_ego_map(me, member=access.member_for_view(me, ref_id))
    else:
        allowed = access.can_see_ego_map(me, organization=access.organization_for_view(me, ref_id))
    if not allowed:
        raise not_found()
    m = selectors.current_map()
    center = selectors.node_by_ref(m, kind, ref_id) if m else None
    if m is None or center is None:
        raise not_found("Not on the current map (build it, or this one has no lines in its window).")
    staff = access.can_see_map(me)
    lines_qs = selectors.node_lines(m, center.idx, hide_kinds=() if staff else (LineKind.PROSPECTING,))
    lines = list(lines_qs.order_by("-weight", "id")[: max(1, min(limit, 1000))])
    ids = {ln.source for ln in lines} | {ln.target for ln in lines}
    nodes = list(Node.objects.filter(map=m, idx__in=sorted(ids - {center.idx})).order_by("-pagerank", "idx"))
    if not staff:
        ok: set[int] = set()
        for k in {n.kind for n in nodes}:
            refs = access.visible_map_refs(me, k, [n.ref_id for n in nodes if n.kind == k])
            ok |= {n.idx for n in nodes if n.kind == k and n.ref_id in refs}
        nodes = [n for n in nodes if n.idx in ok]
        lines = [
            ln
            for ln in lines
            if (ln.source in ok or ln.source == center.idx) and (ln.target in ok or ln.target == center.idx)
        ]
    return {"center": center, "nodes": nodes, "lines": lines}


@router.get("/map/members/{member_id}/neighbourhood", response={200: NeighbourhoodOut, **ERRORS})
def member_neighbourhood(request: HttpRequest, member_id: int, limit: int = 200) -> dict[str, Any]:
    """A person's heaviest lines and the nodes at their other ends (staff, or the person themselves)."""
    return _neighbourhood(request, NodeKind.MEMBER, member_id, limit)


@router.get("/map/organizations/{org_id}/neighbourhood", response={200: NeighbourhoodOut, **ERRORS})
def organization_neighbourhood(request: HttpRequest, org_id: int, limit: int = 200) -> dict[str, Any]:
    """An organisation's heaviest lines and the nodes at their other ends (staff)."""
    return _neighbourhood(request, NodeKind.ORGANIZATION, org_id, limit)


@router.get("/map/snapshots", response={200: list[MapOut], **ERRORS})
def snapshot_list(request: HttpRequest) -> list[Map]:
    """The current map and every snapshot, newest first."""
    _staff(request)
    return selectors.map_list()


@router.post("/map/snapshots", response={201: MapOut, **ERRORS})
def snapshot_create(request: HttpRequest, payload: SnapshotIn) -> tuple[int, Map]:
    """Build and keep a snapshot of a period. 409 when the label exists."""
    _staff(request)
    start = datetime.combine(payload.date_from, time.min, tzinfo=UTC) if payload.date_from else None
    end = datetime.combine(payload.date_to, time.max, tzinfo=UTC) if payload.date_to else None
    if start and end and start >= end:
        raise invalid("date_from must come before date_to.", date_from=str(payload.date_from))
    if start and not end:
        from datetime import timedelta

        end = min(datetime.now(tz=UTC), start + timedelta(days=365))
    return 201, services.snapshot_create(label=payload.label, start=start, end=end).map


@router.delete("/map/snapshots/{label}", response={204: None, **ERRORS})
def snapshot_delete(request: HttpRequest, label: str) -> tuple[int, None]:
    _staff(request)
    services.snapshot_delete(label=label)
    return 204, None


@router.get("/map/compare", response={200: CompareOut, **ERRORS})
def map_compare(request: HttpRequest, a: str, b: str = "current") -> dict[str, Any]:
    """What changed from map `a` to map `b` (labels, or 'current')."""
    _staff(request)
    return compare(map_by_name(a), map_by_name(b))


@router.post("/map/build", response={200: MapOut, **ERRORS})
def map_build(request: HttpRequest, payload: BuildIn) -> Map:
    """Rebuild the current map now (large communities: prefer `convenor map build` from cron)."""
    _staff(request)
    return services.build_map(window_days=payload.window_days).map


@router.post("/map/update", response={200: MapOut, **ERRORS})
def map_update(request: HttpRequest) -> Map:
    """Fold what happened since the last build or update into the current map (the daily update;
    409 when the weights or window changed and a full build is needed)."""
    _staff(request)
    return services.update_map().map
