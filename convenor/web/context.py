"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from convenor.core import access
from convenor.spaces import selectors as space_selectors


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
        # The badge in the top bar: one COUNT over the notifications the viewer may still see.
        "unread_notifications": space_selectors.notifications_unread_count(user=user) if logged_in else 0,
        # Accounts made for existing members often have no name of their own.
        "viewer_name": (me.name if me is not None else "") or getattr(user, "name", "") or getattr(user, "email", ""),
    }
