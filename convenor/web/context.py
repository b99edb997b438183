"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.template.loader import get_template

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.core.memo import Memo
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
    return unread_from(user, total=total, about_spaces=about_spaces)


def unread_from(user: AnyUser, *, total: int, about_spaces: int) -> int:
    """The badge's number from the two counts of _UNREAD (read by the caller, perhaps with
    other things in one query)."""
    if about_spaces == 0:
        return total
    return space_selectors.notifications_unread_count(user=user)


def usernav(*, section: str, unread: int, member_id: int | None, name: str, csrf_token: str) -> str:
    """The logged-in viewer's corner of the top bar (web/_usernav.html) on its own, as base.html
    includes it, for pages rendered once for all readers (views_spaces.py). Remembered in the
    process per set of values (a handful per viewer): the template is a pure function of
    them, and rendering it cost more than the rest of the corner's work."""
    memo_key = (section, unread, member_id, name, csrf_token)
    html = _USERNAV.get(memo_key)
    if html is None:
        context = {
            "section": section,
            "unread_notifications": unread,
            "viewer_member_id": member_id,
            "viewer_name": name,
            "csrf_token": csrf_token,
        }
        html = get_template("web/_usernav.html").render(context)
        _USERNAV.put(memo_key, html)
    return html


_USERNAV: Memo[tuple[str, int, int | None, str, str], str] = Memo(4096)


def viewer_name(user: AnyUser, member_name: str | None) -> str:
    """The name the top bar shows: the member's, else the account's, else its email address."""
    return (member_name or "") or getattr(user, "name", "") or getattr(user, "email", "")


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
        "viewer_name": viewer_name(user, me.name if me is not None else None),
    }
