"""CSRF tokens of the pages kept for readers alike (convenor/web/csrf.py): made as Django's
get_token makes them, so its middleware accepts them, with the same secret and cookie."""

from __future__ import annotations

import re
from collections import Counter

from django.conf import settings
from django.middleware.csrf import (  # type: ignore[attr-defined]  # Django's own unmasking, not in its stubs
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _unmask_cipher_token,
)
from django.test import Client, RequestFactory
from django.urls import reverse

from convenor.core.testing import World
from convenor.spaces.models import Frame, Reaction, Visibility
from convenor.spaces.services import post_reply, space_create, thread_create
from convenor.web.csrf import get_token, random_positions


def test_a_token_is_the_requests_secret_masked_afresh() -> None:
    request = RequestFactory().get("/")
    first = get_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert len(secret) == CSRF_SECRET_LENGTH and set(secret) <= set(CSRF_ALLOWED_CHARS)
    second = get_token(request)
    assert request.META["CSRF_COOKIE"] == secret  # one secret per request
    for token in (first, second):
        assert len(token) == 2 * CSRF_SECRET_LENGTH and set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret
    assert first != second  # a new mask for each


def test_a_secret_from_the_cookie_is_kept() -> None:
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = "a" * CSRF_SECRET_LENGTH
    assert _unmask_cipher_token(get_token(request)) == "a" * CSRF_SECRET_LENGTH
    assert request.META["CSRF_COOKIE"] == "a" * CSRF_SECRET_LENGTH
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_every_character_comes_up() -> None:
    # Not a statistical test: only that no position of the alphabet is out of reach (a
    # byte taken modulo its size without the cut-off would still pass; the cut-off is read).
    seen = Counter(random_positions(20_000))
    assert set(seen) == set(range(len(CSRF_ALLOWED_CHARS)))
    assert len(random_positions(CSRF_SECRET_LENGTH)) == CSRF_SECRET_LENGTH


def test_the_kept_pages_token_and_cookie_let_a_reader_react(world: World) -> None:
    space = space_create(name="Square", frame=Frame.COMMUNITY, visibility=Visibility.PUBLIC, creator=world.admin_member)
    thread = thread_create(space=space, author=world.acme_member, title="Lag", body="Opening", kind="discussion")
    reply = post_reply(thread=thread, author=world.acme_member, body="More")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.globex_user)
    url = reverse("web:thread_detail", args=[thread.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert settings.CSRF_COOKIE_NAME in page.cookies  # a first visit: a new secret, as its cookie
    # A second view (the kept page, made this reader's) with the cookie: the same secret.
    page = client.get(url)
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()))
    assert tokens and len(tokens) == 1
    (token,) = tokens
    react = reverse("web:post_react", args=[reply.pk])
    assert client.post(react, {"kind": "like", "csrfmiddlewaretoken": "x" * 64}).status_code == 403
    assert not Reaction.objects.filter(post=reply).exists()
    assert client.post(react, {"kind": "like", "csrfmiddlewaretoken": token}).status_code == 302
    assert Reaction.objects.filter(post=reply, member=world.globex_member, kind="like").exists()


def test_the_middleware_sets_the_same_cookie_as_djangos() -> None:
    """convenor.web.csrf.CsrfViewMiddleware makes the cookie once per secret and second: the
    header is Django's own, and each response has its own copy of it."""
    import time

    from django.http import HttpResponse
    from django.middleware.csrf import CsrfViewMiddleware as Django
    from django.test.utils import override_settings

    from convenor.web.csrf import CsrfViewMiddleware

    def headers(middleware_class: type, secret: str) -> str:
        request = RequestFactory().get("/")
        request.META["CSRF_COOKIE"] = secret
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
        response = middleware_class(lambda r: HttpResponse()).process_response(request, HttpResponse())
        assert response["Vary"] == "Cookie"
        return str(response.cookies.output())

    for options in (
        {},
        {"CSRF_COOKIE_SECURE": True, "CSRF_COOKIE_HTTPONLY": True, "CSRF_COOKIE_DOMAIN": "example.com"},
    ):
        with override_settings(**options):
            for secret in ("a" * CSRF_SECRET_LENGTH, "b" * CSRF_SECRET_LENGTH):
                for _ in range(3):  # the first makes it, the others are remembered
                    second = int(time.time())
                    ours, django = headers(CsrfViewMiddleware, secret), headers(Django, secret)
                    if int(time.time()) == second:  # (the same second for both)
                        assert ours == django, (ours, django)
                    assert f"{settings.CSRF_COOKIE_NAME}={secret}" in ours
    # A response's cookie is its own: changing it leaves the next response's alone.
    request = RequestFactory().get("/")
    request.META.update(CSRF_COOKIE="c" * CSRF_SECRET_LENGTH, CSRF_COOKIE_NEEDS_UPDATE=True)
    first = CsrfViewMiddleware(lambda r: HttpResponse()).process_response(request, HttpResponse())
    first.cookies[settings.CSRF_COOKIE_NAME]["path"] = "/changed/"
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    again = CsrfViewMiddleware(lambda r: HttpResponse()).process_response(request, HttpResponse())
    assert again.cookies[settings.CSRF_COOKIE_NAME]["path"] == settings.CSRF_COOKIE_PATH
