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

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

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
