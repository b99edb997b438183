"""The subscribable calendar feeds offered on the space page and the notification settings."""

from __future__ import annotations

from convenor.core import access
from convenor.core.access import AnyUser
from convenor.events import calendar as ics
from convenor.spaces.models import Space, Visibility


def space_feed_url(user: AnyUser, space: Space) -> str | None:
    """The feed of a space's events for this viewer: the plain URL for a public space, one
    carrying the viewer's personal token otherwise (None for an anonymous visitor)."""
    if space.visibility == Visibility.PUBLIC:
        return ics.space_feed_url(space.slug, space.pk)
    me = access.viewer_member(user) if access.is_authenticated(user) else None
    return ics.space_feed_url(space.slug, space.pk, member_id=me.pk) if me is not None else None


def member_feed_url(user: AnyUser) -> str | None:
    """The viewer's own feed: the events they registered for."""
    me = access.viewer_member(user) if access.is_authenticated(user) else None
    return ics.member_feed_url(me.pk) if me is not None else None
