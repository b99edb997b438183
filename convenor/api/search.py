"""Full-text search over the posts the token's user may read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from convenor.spaces.search import search_posts

from .auth import viewer
from .pagination import PageParams, envelope
from .schemas import ErrorOut, SearchFilters, SearchPage

router = Router(tags=["search"])


@router.get("/search", response={200: SearchPage, 401: ErrorOut, 422: ErrorOut})
def search(request: HttpRequest, filters: Query[SearchFilters], page: Query[PageParams]) -> dict[str, Any]:
    """Posts matching `q`, best first. Spaces the viewer may not read are never searched, so
    a `space` they may not read simply finds nothing."""
    result = search_posts(
        viewer=viewer(request),
        q=filters.q,
        space_id=filters.space,
        author_id=filters.author,
        page=page.page,
        page_size=page.page_size,
    )
    return envelope(request, result.hits, result.total, page)
