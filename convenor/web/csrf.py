"""The CSRF token of a page, as Django's ``get_token`` makes it, with fewer system calls.

Django draws each character of a new secret and of each token's mask with its own
``secrets.choice``, one ``os.urandom`` call per character: 64 calls for a first visit, 32
for every other page, and more time than the rest of a logged-in page kept for readers
alike takes to be made the reader's (views_spaces.py). Here each string comes from one
``os.urandom`` call, read the same way ``secrets.choice`` reads it: a byte is used only
below the largest multiple of the alphabet's size (248 for 62 characters), so every
character is equally likely, and independent of the others. Everything else is Django's:
the same secret kept in ``request.META`` for CsrfViewMiddleware to set as the cookie, and
the same masking as ``_mask_cipher_secret`` (the mask, then each secret character shifted by
the mask's), so the middleware checks these tokens as its own.
"""

from __future__ import annotations

import os
import time
from http.cookies import Morsel
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from convenor.core.memo import Memo

_SIZE = len(CSRF_ALLOWED_CHARS)
_LIMIT = 256 - 256 % _SIZE  # bytes from here up would make the first characters likelier
_POSITION = {c: i for i, c in enumerate(CSRF_ALLOWED_CHARS)}


def random_positions(n: int) -> list[int]:
    """`n` positions in CSRF_ALLOWED_CHARS, each uniform and independent (see above)."""
    out: list[int] = []
    while len(out) < n:
        out += [b % _SIZE for b in os.urandom(n - len(out) + 8) if b < _LIMIT]
    return out[:n]


def get_token(request: HttpRequest) -> str:
    """django.middleware.csrf.get_token: the request's secret (a new one when it has none,
    which CsrfViewMiddleware then sets as the cookie), masked afresh for this response."""
    meta = request.META
    if "CSRF_COOKIE" in meta:
        secret = meta["CSRF_COOKIE"]
    else:
        secret = "".join([CSRF_ALLOWED_CHARS[i] for i in random_positions(CSRF_SECRET_LENGTH)])
        meta["CSRF_COOKIE"] = secret
    meta["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_positions(CSRF_SECRET_LENGTH)
    chars = CSRF_ALLOWED_CHARS
    masked = [chars[(_POSITION[c] + m) % _SIZE] for c, m in zip(secret, mask, strict=True)]
    return "".join([chars[m] for m in mask]) + "".join(masked)


class CsrfViewMiddleware(DjangoCsrfViewMiddleware):
    """Django's, with the CSRF cookie it sets again on every page that uses a token made once
    per secret and second: ``response.set_cookie`` checks and sets each of the cookie's eight
    attributes and formats its expiry date every time, a twentieth of a logged-in page kept
    for readers alike. The cookie is the same (a test compares the two headers)."""

    def _set_csrf_cookie(self, request: HttpRequest, response: HttpResponseBase) -> None:
        if settings.CSRF_USE_SESSIONS:
            super()._set_csrf_cookie(request, response)  # type: ignore[misc]  # Django's own, not in its stubs
            return
        secret = request.META["CSRF_COOKIE"]
        now = int(time.time())
        options = _cookie_options()
        memo_key = (secret, now, tuple(options.items()))
        morsel = _MORSELS.get(memo_key)
        if morsel is None:
            made = HttpResponseBase()
            made.set_cookie(settings.CSRF_COOKIE_NAME, secret, **options)
            # Made with the second's start, as set_cookie would at any moment in it.
            morsel = made.cookies[settings.CSRF_COOKIE_NAME]
            if settings.CSRF_COOKIE_AGE is not None:
                morsel["expires"] = http_date(now + settings.CSRF_COOKIE_AGE)
            _MORSELS.put(memo_key, morsel)
        # A copy: set_cookie on this response later (or a middleware after this one) changes
        # its own morsel in place, not the one remembered.
        dict.__setitem__(response.cookies, settings.CSRF_COOKIE_NAME, morsel.copy())
        patch_vary_headers(response, ("Cookie",))


def _cookie_options() -> dict[str, Any]:
    """What CsrfViewMiddleware gives set_cookie besides the name and the secret."""
    return {
        "max_age": settings.CSRF_COOKIE_AGE,
        "domain": settings.CSRF_COOKIE_DOMAIN,
        "path": settings.CSRF_COOKIE_PATH,
        "secure": settings.CSRF_COOKIE_SECURE,
        "httponly": settings.CSRF_COOKIE_HTTPONLY,
        "samesite": settings.CSRF_COOKIE_SAMESITE,
    }


_MORSELS: Memo[tuple[str, int, tuple[tuple[str, Any], ...]], Morsel[str]] = Memo(1024)
