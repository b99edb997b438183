"""The logged-in user of a request, read with one plain query.

Every logged-in page asks who is viewing before anything else. Django's
AuthenticationMiddleware reads the account through the ORM (``ModelBackend.get_user``),
whose query building cost more than the query itself: about a fifth of a logged-in thread
or space page kept for readers alike (views_spaces.py, bench/web.py). This middleware reads
the same row with SQL written once (``active_user_sql``) in the common case: the
session was made by Django's ``ModelBackend`` (every login here) and its hash checks with
the current secret key. Same account, same rules: an inactive account is nobody, and a
password change ends the other sessions.

Anything else goes through Django's own ``auth.get_user``, unchanged: no session, another
backend, an account gone or inactive, a hash made with a fallback secret key (Django
rotates the session) or a wrong one (Django ends it).

Settings: ``MIDDLEWARE`` lists ``convenor.web.auth.AuthenticationMiddleware`` in place of
Django's (a subclass of it, as the admin's checks want).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from convenor.core.access import one_row, row_instances
from convenor.core.memo import Memo
from convenor.core.models import User

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def active_user_sql(user_id: int) -> User | None:
    """The account with this id when it is active, with one plain query: what Django's
    ModelBackend.get_user answers (an inactive account is nobody). The same columns and
    converters as the ORM (access.py's readers of the thread and space rows)."""
    found = one_row("FROM core_user u WHERE u.id = %s", [user_id], (User, "u"))
    if found is None:
        return None
    user: User = found[0]
    return user if user.is_active else None


def session_user(request: HttpRequest) -> User | None:
    """The session's user when ModelBackend logged them in, their account is active and the
    session's hash checks with the current secret key; None: ask Django's auth.get_user."""
    session = request.session
    try:
        raw_id = session[SESSION_KEY]
        backend = session[BACKEND_SESSION_KEY]
        session_hash = session[HASH_SESSION_KEY]
    except KeyError:
        return None
    if backend != MODEL_BACKEND or backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user_id = User._meta.pk.to_python(raw_id)
    except ValidationError:
        return None
    joined = getattr(session, "joined_user", None)
    if joined is not None and joined[0] == user_id:
        # Read with the session (sessions.SessionStore._session_row): the same row and rule.
        row = joined[1]
        found: User | None = None if row is None else row_instances(row, (User, "u"))[0]
        user = found if found is not None and found.is_active else None
    else:
        user = active_user_sql(user_id)
    if user is None or not session_hash or not constant_time_compare(session_hash, session_auth_hash(user)):
        return None
    return user


def session_auth_hash(user: User) -> str:
    """``user.get_session_auth_hash()``, remembered in the process for the same password
    hash and secret key (an HMAC of the one with the other): worked out on every logged-in
    request, it cost as much as reading the account. A new password or key is a new entry."""
    memo_key = (user.password, settings.SECRET_KEY)
    found = _AUTH_HASHES.get(memo_key)
    if found is None:
        found = user.get_session_auth_hash()
        _AUTH_HASHES.put(memo_key, found)
    return found


_AUTH_HASHES: Memo[tuple[str, str], str] = Memo(4096)


def get_user(request: HttpRequest) -> User | AnonymousUser:
    """django.contrib.auth.middleware.get_user, with the short way above first. Once known,
    the user also takes the lazy object's place as ``request.user``: every attribute read
    through a SimpleLazyObject is a few Python calls, and a page reads it a hundred times."""
    if not hasattr(request, "_cached_user"):
        request._cached_user = session_user(request) or auth.get_user(request)  # type: ignore[attr-defined]  # Django's own memo
        if isinstance(request.__dict__.get("user"), SimpleLazyObject):
            request.user = request._cached_user  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined, no-any-return]


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with ``request.user`` read by get_user above."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))  # type: ignore[assignment]  # as Django does
