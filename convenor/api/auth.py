"""Bearer-token authentication for the JSON API.

Only ``Authorization: Bearer <token>`` is accepted; the browser session is deliberately
ignored, so a page cannot be tricked into calling the API with a visitor's cookies (no
CSRF surface). Tokens come from ``convenor token create EMAIL``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import User
from convenor.core.tokens import token_authenticate


class BearerToken(HttpBearer):
    """Resolves the bearer token to an active user; anything else is 401."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return token_authenticate(token.strip())


def viewer(request: HttpRequest) -> User:
    """The user the request's token belongs to (set by :class:`BearerToken`)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        # Every operation requires the token, so this only guards against a misconfigured route.
        raise ApplicationError(ErrorCode.NOT_AUTHENTICATED, "Send a valid API token")
    return user
