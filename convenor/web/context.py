"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.spaces import selectors as space_selectors

# The viewer's unread notifications, and how many of them are about a space (core_notif_unread_idx).
_UNREAD = (
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN place_kind = 'space' THEN 1 ELSE 0 END), 0) "
    "FROM core_notification WHERE recipient_id = %s AND read_at IS NULL"
)


def unread_count(user: AnyUser) -> int:
    """The badge's number: notifications_unread_count, without building the viewer's space
    conditions when no unread notification is about a space (they are the only ones it
    leaves out, those about spaces the viewer can no longer read)."""
    with connection.cursor() as cur:
        cur.execute(_UNREAD, [user.pk])
        row = cur.fetchone()
    total, about_spaces = (int(row[0]), int(row[1])) if row is not None else (0, 0)
    if about_spaces == 0:
        return total
    return space_selectors.notifications_unread_count(user=user)


def site(request: HttpRequest) -> dict[str, object]:
    user = request.user
    logged_in = access.is_authenticated(user)
    me = access.viewer_member(user) if logged_in else None
    return {
        "site_name": settings.SITE_NAME,
        "is_staff_viewer": access.is_staff(user),
        "can_edit_people": access.can_edit_people(user),
        "can_merge": access.can_merge(user),
        # The viewer's own profile, linked from the top bar.
        "viewer_member_id": me.pk if me is not None else None,
        # The badge in the top bar: the notifications the viewer may still see, unread.
        "unread_notifications": unread_count(user) if logged_in else 0,
        # Accounts made for existing members often have no name of their own.
        "viewer_name": (me.name if me is not None else "") or getattr(user, "name", "") or getattr(user, "email", ""),
    }
