"""Listening in the JSON API: sources (list, add, read, refresh from the URL), the outside
posts (with the ideas they are linked to), import runs with their rejected records, share
of voice, where customers hang out, and brand aliases. Staff only: anyone else gets 404, as
if the endpoints did not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from convenor.core import access
from convenor.feedback import selectors as feedback_selectors
from convenor.listening import selectors, services
from convenor.listening.models import Conduit, ImporterKind, ImportRun, OutsidePost, PostKind, RunStatus, Source

from .auth import viewer
from .pagination import Page, PageParams, envelope, paginate
from .schemas import ERRORS, ErrorOut

router = Router(tags=["listening"])


class PersonRef(Schema):
    id: int
    name: str
    observed: bool = Field(description="Seen only in outside conduits: not a member yet.")


class SourceOut(Schema):
    id: int
    name: str
    key: str = Field(description="The activity log's `source` for this conduit.")
    importer: ImporterKind
    conduit: Conduit
    url: str
    refresh_minutes: int | None
    last_fetched_at: datetime | None
    created_at: datetime


class SourcePage(Page):
    items: list[SourceOut]


class SourceIn(Schema):
    name: str
    importer: ImporterKind
    conduit: Conduit | None = Field(None, description="Defaults from the importer (rss → blog, slack → chat, ...).")
    url: str = ""
    refresh_minutes: int | None = Field(None, description="Refresh from the URL this often (at least 5).")


class RejectionOut(Schema):
    file: str
    position: str
    reason: str


class RunOut(Schema):
    id: int
    source_id: int | None
    importer: ImporterKind
    filename: str
    status: RunStatus
    created: int
    updated: int
    skipped: int
    rejected: int
    activities: int
    people_created: int
    progress_done: int
    progress_total: int
    error: str
    started_at: datetime
    finished_at: datetime | None
    seconds: float


class RunDetailOut(RunOut):
    rejections: list[RejectionOut] = Field(description="The first 500 rejected records.")

    @staticmethod
    def resolve_rejections(obj: ImportRun) -> list[Any]:
        return list(obj.rejections.all()[:500])


class RunPage(Page):
    items: list[RunOut]


class RunFilters(Schema):
    source_id: int | None = None
    problems: bool = Field(False, description="Only runs that failed or rejected records.")


class BrandOut(Schema):
    organization_id: int
    name: str
    ours: bool
    mentions: int
    sentiment: float | None


class SovRow(Schema):
    key: str
    label: str
    ours: int
    competitors: int
    share: float | None
    sentiment_ours: float | None
    sentiment_competitors: float | None


class SovOut(Schema):
    ours: int
    competitors: int
    share: float | None = Field(description="ours / (ours + competitors'); null without mentions.")
    by: str
    segment: str
    brands: list[BrandOut]
    rows: list[SovRow]
    trend: list[SovRow] = Field(description="Per month, oldest first.")
    trend_change: float | None = Field(description="The latest month's share minus the first month's.")


class SovFilters(Schema):
    by: str = Field("", pattern="^(|conduit|segment|month)$", description="conduit, segment or month.")
    segment: str = Field("industry", pattern="^(industry|organization|role)$")
    since: datetime | None = None


class PlaceOut(Schema):
    conduit: Conduit
    conduit_label: str
    source_id: int
    source_name: str
    space: str
    posts: int
    people: int
    sentiment: float | None
    topics: list[str]


class SegmentOut(Schema):
    name: str
    posts: int
    people: int
    places: list[PlaceOut]


class HangoutFilters(Schema):
    segment: str = Field("industry", pattern="^(industry|organization|role)$")
    include_employees: bool = False


class PostFilters(Schema):
    source_id: int | None = None
    conduit: Conduit | None = None
    kind: PostKind | None = None
    q: str = Field("", description="Words in the title or text (all of them).")


class IdeaRef(Schema):
    id: int
    title: str
    status: str


class OutsidePostOut(Schema):
    id: int
    source_id: int
    source_name: str
    conduit: Conduit
    kind: PostKind
    author: PersonRef
    space: str = Field(description="Where in the source: a Slack channel, a forum category, a list, a feed.")
    title: str
    text: str
    url: str
    rating: float | None
    sentiment: float | None
    occurred_at: datetime
    ideas: list[IdeaRef] = Field(description="The ideas (that the token's user may see) it is linked to.")


class OutsidePostPage(Page):
    items: list[OutsidePostOut]


class AliasIn(Schema):
    organization_id: int
    alias: str


class AliasOut(Schema):
    id: int
    organization_id: int
    alias: str


@router.get("/listening/sources", response={200: SourcePage, 401: ErrorOut, 404: ErrorOut})
def source_list(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """The sources listened to, by name."""
    access.require_listening(viewer(request))
    return paginate(request, Source.objects.order_by("name", "pk"), page)


@router.post("/listening/sources", response={201: SourceOut, **ERRORS})
def source_create(request: HttpRequest, payload: SourceIn) -> tuple[int, Source]:
    """Add a source (admins and community managers)."""
    user = access.require_listening(viewer(request), change=True)
    source = services.source_create(
        name=payload.name,
        importer=payload.importer,
        conduit=payload.conduit or "",
        url=payload.url,
        refresh_minutes=payload.refresh_minutes,
        actor=user,
    )
    return 201, source


@router.get("/listening/sources/{source_id}", response={200: SourceOut, 401: ErrorOut, 404: ErrorOut})
def source_detail(request: HttpRequest, source_id: int) -> Source:
    return access.source_for_view(viewer(request), source_id)


@router.post("/listening/sources/{source_id}/refresh", response={200: RunDetailOut, **ERRORS})
def source_refresh(request: HttpRequest, source_id: int, force: bool = False) -> ImportRun:
    """Fetch the source's URL now (conditionally, unless `force`) and import it; answers the run.
    A document that cannot be read answers `bad_file` (422) or `too_large` (413); the failed run
    is then in `GET /listening/runs`."""
    user = viewer(request)
    source = access.source_for_change(user, source_id)
    return services.import_url(source=source, actor=user, force=force)


def _posts_out(user: Any, posts: list[OutsidePost]) -> list[dict[str, Any]]:
    ideas = feedback_selectors.ideas_for_outside_posts(viewer=user, post_ids=[p.pk for p in posts])
    return [
        {
            "id": p.pk,
            "source_id": p.source_id,
            "source_name": p.source.name,
            "conduit": p.conduit,
            "kind": p.kind,
            "author": p.author,
            "space": p.space,
            "title": p.title,
            "text": p.text,
            "url": p.url,
            "rating": p.rating,
            "sentiment": p.sentiment,
            "occurred_at": p.occurred_at,
            "ideas": [{"id": i.pk, "title": i.title, "status": i.status} for i in ideas.get(p.pk, [])],
        }
        for p in posts
    ]


@router.get("/listening/posts", response={200: OutsidePostPage, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def post_list(request: HttpRequest, filters: Query[PostFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Imported posts, newest first, filtered by source, conduit and kind, and searched."""
    user = access.require_listening(viewer(request))
    if filters.source_id is not None:
        access.source_for_view(user, filters.source_id)
    qs = selectors.outside_post_list(
        source_id=filters.source_id, conduit=filters.conduit or "", kind=filters.kind or "", q=filters.q
    )
    count = qs.count()
    start = (page.page - 1) * page.page_size
    return envelope(request, _posts_out(user, list(qs[start : start + page.page_size])), count, page)


@router.get("/listening/posts/{post_id}", response={200: OutsidePostOut, 401: ErrorOut, 404: ErrorOut})
def post_detail(request: HttpRequest, post_id: int) -> dict[str, Any]:
    """One outside post, with the ideas it is linked to."""
    user = viewer(request)
    return _posts_out(user, [access.outside_post_for_view(user, post_id)])[0]


@router.get("/listening/runs", response={200: RunPage, 401: ErrorOut, 404: ErrorOut})
def run_list(request: HttpRequest, filters: Query[RunFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Import runs, newest first."""
    user = viewer(request)
    source = access.source_for_view(user, filters.source_id) if filters.source_id is not None else None
    access.require_listening(user)
    return paginate(request, selectors.run_list(source=source, failed_only=filters.problems), page)


@router.get("/listening/runs/{run_id}", response={200: RunDetailOut, 401: ErrorOut, 404: ErrorOut})
def run_detail(request: HttpRequest, run_id: int) -> ImportRun:
    """One run with its counts, progress and rejected records (file, position, reason)."""
    return access.import_run_for_view(viewer(request), run_id)


@router.get("/listening/share-of-voice", response={200: SovOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def share_of_voice(request: HttpRequest, filters: Query[SovFilters]) -> dict[str, Any]:
    """Share of voice overall, per brand and per month, and split `by` conduit, segment or month."""
    access.require_listening(viewer(request))
    return selectors.share_of_voice(by=filters.by, segment=filters.segment, since=filters.since).as_dict()


@router.get("/listening/hangouts", response={200: list[SegmentOut], 401: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def hangouts(request: HttpRequest, filters: Query[HangoutFilters]) -> list[Any]:
    """Where each segment hangs out: conduits and spaces by volume, with sentiment and topics."""
    access.require_listening(viewer(request))
    return selectors.hangouts(segment=filters.segment, include_employees=filters.include_employees)


@router.post("/listening/aliases", response={201: AliasOut, **ERRORS})
def alias_add(request: HttpRequest, payload: AliasIn) -> tuple[int, Any]:
    """Add an alias to our company's or a competitor's brand; mentions are recounted."""
    user = viewer(request)
    org = access.brand_for_change(user, payload.organization_id)
    return 201, services.brand_alias_add(organization=org, alias=payload.alias, actor=user)


@router.delete("/listening/aliases/{alias_id}", response={204: None, **ERRORS})
def alias_remove(request: HttpRequest, alias_id: int) -> tuple[int, None]:
    user = viewer(request)
    services.brand_alias_remove(alias=access.brand_alias_for_change(user, alias_id), actor=user)
    return 204, None
