"""Page-numbered lists, written once.

Every list endpoint takes ``page`` (from 1) and ``page_size`` (1 to 200, 50 by default) and
answers ``{"items", "count", "page", "page_size", "next", "previous"}``, where ``next`` and
``previous`` are full URLs (the same query with another page) or null.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

M = TypeVar("M", bound=Model)


class PageParams(Schema):
    page: int = Field(1, ge=1, description="Which page, from 1.")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page, at most 200.")


class Page(Schema):
    """The envelope of every list; subclasses name the type of ``items``."""

    items: list[Any]
    count: int = Field(description="How many items match, on all pages.")
    page: int
    page_size: int
    next: str | None = Field(description="The URL of the next page, or null on the last.")
    previous: str | None = Field(description="The URL of the previous page, or null on the first.")


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginate(request: HttpRequest, queryset: QuerySet[M], params: PageParams) -> dict[str, Any]:
    """One page of `queryset` (which must be ordered) in the envelope above.

    A page past the end is empty rather than an error, so a client that pages while rows
    are deleted stops cleanly.
    """
    count = queryset.count()
    start = (params.page - 1) * params.page_size
    return envelope(request, list(queryset[start : start + params.page_size]), count, params)


def envelope(request: HttpRequest, items: list[Any], count: int, params: PageParams) -> dict[str, Any]:
    """The envelope around one page of `items` that something else has already cut (search)."""
    start = (params.page - 1) * params.page_size
    has_next = start + params.page_size < count
    last_page = max(1, -(-count // params.page_size))
    return {
        "items": items,
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "next": _page_url(request, params.page + 1) if has_next else None,
        "previous": _page_url(request, min(params.page - 1, last_page)) if params.page > 1 else None,
    }
