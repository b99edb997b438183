"""The token user's notifications: list, mark read, unread count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Query, Router

from convenor.core import notify
from convenor.spaces import selectors

from .auth import viewer
from .pagination import PageParams, paginate
from .schemas import ErrorOut, MarkedOut, MarkReadIn, NotificationPage, UnreadOut

router = Router(tags=["notifications"])


@router.get("/notifications", response={200: NotificationPage, 401: ErrorOut, 422: ErrorOut})
def notification_list(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Newest first; notifications about spaces the user can no longer read are left out."""
    return paginate(request, selectors.notifications_visible(user=viewer(request)), page)


@router.post("/notifications/read", response={200: MarkedOut, 401: ErrorOut, 422: ErrorOut})
def notification_mark_read(request: HttpRequest, payload: Body[MarkReadIn | None] = None) -> dict[str, int]:
    """Mark the notifications `ids` read, or all of them when no ids are sent."""
    ids = payload.ids if payload is not None else None
    return {"marked": notify.mark_read(viewer(request), ids)}


@router.get("/notifications/unread-count", response={200: UnreadOut, 401: ErrorOut})
def notification_unread_count(request: HttpRequest) -> dict[str, int]:
    return {"unread": selectors.notifications_unread_count(user=viewer(request))}
