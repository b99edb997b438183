"""The logged-in user (convenor/web/auth.py): read with one plain query, with every rule of
Django's own: the same account, an inactive or deleted one is nobody, a password change
ends other sessions, a session signed with a fallback key is rotated, another backend's
session goes through Django."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from convenor.core.models import User
from convenor.core.testing import PASSWORD, World
from convenor.web import auth as auth_module
from convenor.web.auth import active_user_sql
from convenor.web.sessions import SessionStore


def _logged_in(user: User) -> Client:
    client = Client()
    response = client.post(reverse("web:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _user_queries(client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("web:notifications")).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "core_user" in q["sql"].split(" WHERE ")[0]]


def test_the_middleware_is_ours() -> None:
    assert "convenor.web.auth.AuthenticationMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.auth.middleware.AuthenticationMiddleware" not in settings.MIDDLEWARE


def test_the_plain_query_makes_the_same_account(world: World) -> None:
    for user in (world.admin, world.acme_user, world.outsider):
        mine = active_user_sql(user.pk)
        orm = User.objects.get(pk=user.pk)
        assert mine is not None and mine.pk == orm.pk
        assert {f.attname: getattr(mine, f.attname) for f in User._meta.concrete_fields} == {
            f.attname: getattr(orm, f.attname) for f in User._meta.concrete_fields
        }
        assert mine._state.adding is False and mine._state.db == "default"
    assert active_user_sql(10**9) is None


def test_a_login_reads_its_user_with_one_plain_query(world: World) -> None:
    client = _logged_in(world.acme_user)
    reads = _user_queries(client)
    assert len(reads) == 1 and "FROM core_user u WHERE u.id" in reads[0], reads
    # It is Carla's page: her corner of the top bar.
    assert client.get(reverse("web:notifications")).context["user"] == world.acme_user


def test_an_inactive_or_deleted_account_is_nobody(world: World) -> None:
    client = _logged_in(world.acme_user)
    User.objects.filter(pk=world.acme_user.pk).update(is_active=False)
    assert active_user_sql(world.acme_user.pk) is None
    assert client.get(reverse("web:notifications")).status_code == 302
    other = _logged_in(world.globex_user)
    User.objects.filter(pk=world.globex_user.pk).delete()
    assert other.get(reverse("web:notifications")).status_code == 302


def test_a_password_change_ends_the_other_sessions(world: World) -> None:
    client = _logged_in(world.acme_user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    user = User.objects.get(pk=world.acme_user.pk)
    user.set_password("another-horse-battery")
    user.save()
    assert client.get(reverse("web:notifications")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()  # Django flushed it


def test_a_session_from_a_fallback_key_is_kept_and_rotated(world: World) -> None:
    with override_settings(SECRET_KEY="an-old-secret-key-that-is-long-enough-for-the-checks-1234567890"):
        client = _logged_in(world.acme_user)
    old_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    with override_settings(SECRET_KEY_FALLBACKS=["an-old-secret-key-that-is-long-enough-for-the-checks-1234567890"]):
        assert client.get(reverse("web:notifications")).status_code == 200
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    session = SessionStore(new_key).load()
    assert session[HASH_SESSION_KEY] == User.objects.get(pk=world.acme_user.pk).get_session_auth_hash()


def test_a_session_of_another_backend_or_without_hash_goes_through_django(world: World) -> None:
    client = _logged_in(world.acme_user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = SessionStore(key)
    data = store.load()
    # A backend not in AUTHENTICATION_BACKENDS: nobody, as Django says.
    store.update({**data, BACKEND_SESSION_KEY: "somewhere.else.Backend"})
    store.save()
    assert client.get(reverse("web:notifications")).status_code == 302
    # No hash at all: Django ends the session.
    store = SessionStore(key)
    store.update({BACKEND_SESSION_KEY: data[BACKEND_SESSION_KEY]})
    del store[HASH_SESSION_KEY]
    store.save()
    assert client.get(reverse("web:notifications")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()


def test_the_session_hash_is_remembered_per_password_and_key(world: World) -> None:
    user = User.objects.get(pk=world.acme_user.pk)
    assert auth_module.session_auth_hash(user) == user.get_session_auth_hash()
    assert (user.password, settings.SECRET_KEY) in auth_module._AUTH_HASHES
    # A new password, or a new secret key, is worked out afresh.
    user.set_password("another-password-1234")
    assert auth_module.session_auth_hash(user) == user.get_session_auth_hash()
    with override_settings(SECRET_KEY="another-secret-key-that-is-long-enough-for-the-checks-0987654321"):
        fresh = auth_module.session_auth_hash(user)
        assert fresh == user.get_session_auth_hash()
    assert fresh != auth_module.session_auth_hash(user)


def test_a_session_read_before_brings_its_user_in_the_same_query(world: World) -> None:
    from convenor.web import sessions

    client = _logged_in(world.acme_user)
    url = reverse("web:notifications")
    assert client.get(url).status_code == 200  # read once: this process now knows whose it is
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.context["user"] == world.acme_user
    sqls = [q["sql"] for q in queries.captured_queries]
    assert [s for s in sqls if "core_user" in s.split(" WHERE ")[0]] == [
        s for s in sqls if "django_session" in s and "LEFT JOIN" in s
    ]
    # A wrong guess (the key now said to be Globex's) reads the session's own user instead.
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    sessions._USER_OF.put(key, world.globex_user.pk)
    assert client.get(url).context["user"] == world.acme_user
    # The joined row follows the same rules: an inactive account is nobody.
    User.objects.filter(pk=world.acme_user.pk).update(is_active=False)
    assert client.get(url).status_code == 302


def test_the_known_user_takes_the_lazy_objects_place_on_the_request(world: World) -> None:
    from django.utils.functional import SimpleLazyObject

    from convenor.web import auth as web_auth

    client = _logged_in(world.acme_user)
    response = client.get(reverse("web:notifications"))
    request = response.wsgi_request
    assert not isinstance(request.__dict__["user"], SimpleLazyObject)
    assert request.user == world.acme_user and web_auth.get_user(request) is request.user
