"""Sessions (convenor/web/sessions.py): Django's database sessions, read with plain SQL,
keep every rule of the ``db`` engine: a login lasts, a logout or an expiry ends it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from convenor.core.testing import PASSWORD, World
from convenor.web import sessions
from convenor.web.sessions import SessionStore


def test_the_engine_is_ours() -> None:
    assert settings.SESSION_ENGINE == "convenor.web.sessions"


def test_a_login_lasts_until_logout(world: World) -> None:
    client = Client()
    response = client.post(reverse("web:login"), {"username": "carla@acme.example", "password": PASSWORD})
    assert response.status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).load()  # the same row the ORM would read
    assert client.get(reverse("web:notifications")).status_code == 200
    client.post(reverse("web:logout"))
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie no longer logs anyone in.
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stale.get(reverse("web:notifications")).status_code == 302


def test_an_expired_or_unknown_session_is_empty(world: World) -> None:
    client = Client()
    client.force_login(world.acme_user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    store = SessionStore(key)
    assert store.load() == {} and store.session_key is None
    assert client.get(reverse("web:notifications")).status_code == 302
    assert SessionStore("no-such-session-key-at-all").load() == {}


def test_load_reads_the_same_data_as_the_sessions_row(world: World) -> None:
    client = Client()
    client.force_login(world.acme_user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    row = Session.objects.get(session_key=key)
    store = SessionStore(key)
    assert store.load() == row.get_decoded()
    # The row as a model, as Django's cached_db engine asks for it.
    found = SessionStore(key)._get_session_from_db()
    assert found is not None and found.session_key == key and found.session_data == row.session_data
    assert found.expire_date == row.expire_date
    gone = SessionStore("no-such-session-key-at-all")
    assert gone._get_session_from_db() is None and gone.session_key is None


def test_decoded_data_is_remembered_only_for_the_same_text_and_keys(world: World) -> None:
    client = Client()
    client.force_login(world.acme_user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    row = Session.objects.get(session_key=key)
    first = SessionStore(key).load()
    assert first == row.get_decoded() and first["_auth_user_id"] == str(world.acme_user.pk)
    assert (row.session_data, settings.SECRET_KEY, ()) in sessions._DECODED
    # Each load gets its own copy: what one request changes does not reach the next.
    first["_auth_user_id"] = "0"
    first["extra"] = "x"
    assert SessionStore(key).load() == row.get_decoded()
    # Under another secret key the same text no longer checks: Django's decode gives nothing.
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40):
        assert SessionStore(key).load() == {}
    # Saved data (a new text) is decoded afresh; data with lists or dicts is not remembered.
    store = SessionStore(key)
    store["basket"] = ["a", "b"]
    store.save()
    again = SessionStore(key).load()
    assert again["basket"] == ["a", "b"]
    again["basket"].append("c")
    assert SessionStore(key).load()["basket"] == ["a", "b"]
    stored = Session.objects.get(session_key=key).session_data
    assert not any(memo[0] == stored for memo in sessions._DECODED)
    # A logged-out session is gone, remembered text or not.
    client.post(reverse("web:logout"))
    assert SessionStore(key).load() == {}
