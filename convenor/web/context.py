"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from convenor.core import access


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "site_name": settings.SITE_NAME,
        "is_staff_viewer": access.is_staff(request.user),
        "can_edit_people": access.can_edit_people(request.user),
        "can_merge": access.can_merge(request.user),
    }
