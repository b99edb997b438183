"""Who the token belongs to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from convenor.core import access

from .auth import viewer
from .schemas import ErrorOut, MeOut

router = Router(tags=["me"])


@router.get("/me", response={200: MeOut, 401: ErrorOut})
def me(request: HttpRequest) -> dict[str, Any]:
    user = viewer(request)
    member = access.viewer_member(user)
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "staff_role": user.staff_role or None,
        "member_id": member.pk if member else None,
    }
