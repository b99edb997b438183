"""The search page's parts written in Python (convenor/web/search_html.py) match what
Django's widgets would write, and the page in the frame kept for every search alike is the
page rendered for each reader alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.http import HttpRequest
from django.template.defaultfilters import date as date_filter
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import translation

from convenor.core.models import Notification, StaffRole, User
from convenor.core.testing import World
from convenor.people.services import account_create
from convenor.spaces.models import Frame, Space, Visibility
from convenor.spaces.search import Hit
from convenor.spaces.services import space_create, thread_create
from convenor.web import views_inbox
from convenor.web.forms_spaces import SearchForm
from convenor.web.search_html import render_hits, render_space_select

SPACES = [(3, "Tom & Jerry's <space>"), (4, "Users lounge"), (12, "Acme")]


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": "kafka"},
        {"q": "kafka", "space": "4"},
        {"q": "kafka", "space": "12", "page": "2"},
        {"q": "kafka", "space": "99"},  # not one of the viewer's spaces: invalid
        {"q": "kafka", "space": "nope"},
        {"q": "kafka", "space": "3", "page": "-1"},  # another field invalid, the space kept
    ],
)
def test_space_menu_is_the_select_widget(data: dict[str, str] | None) -> None:
    form = SearchForm(data, spaces=SPACES)
    form.is_valid()
    assert render_space_select(form["space"]) == str(form["space"])


# --- the frame kept for every search alike (views_inbox._search) --------------------------------


def _request(user: User | AnonymousUser, query: dict[str, str]) -> HttpRequest:
    """A request as the middleware leaves it: user, session, messages, resolved URL."""
    request = RequestFactory().get(reverse("web:search"), query)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]  # what MessageMiddleware sets
    request.resolver_match = resolve(request.path)
    return request


def _untokened(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _both(user: User | AnonymousUser, query: dict[str, str]) -> tuple[str, str]:
    """The page in the kept frame, and as rendered for this reader alone."""
    pages = []
    for share in (True, False):
        response = views_inbox._search(_request(user, query), share=share)
        assert response.status_code == 200
        pages.append(_untokened(response.content.decode()))
    return pages[0], pages[1]


def test_the_kept_search_frame_gives_each_readers_own_page(world: World, lounge: Space, acme_space: Space) -> None:
    square = space_create(
        name="Town <square>", frame=Frame.COMMUNITY, visibility=Visibility.PUBLIC, creator=world.admin_member
    )
    thread_create(space=square, author=world.globex_member, title="Kafka & <friends>", body="kafka in public")
    thread_create(space=lounge, author=world.acme_member, title="Kafka tuning", body="Partitions matter")
    thread_create(space=acme_space, author=world.admin_member, title="Acme's kafka renewal", body="kafka secret")
    for i in range(23):
        thread_create(space=square, author=world.admin_member, title=f"Widget {i}", body="widget talk")
    Notification.objects.create(recipient=world.acme_user, kind="mention", title="You were mentioned", url="/", key="k")
    sales = account_create(
        email="sam@northwind.example", password="x" * 12, name="Sam Sales", staff_role=StaffRole.SALES
    )
    queries = [
        {},
        {"q": "kafka"},
        {"q": "  Kafka  "},  # the words as typed stay in the top bar's box
        {"q": '"><script>x</script> & kafka'},
        {"q": "zzzunknown"},
        {"q": "kafka", "space": str(lounge.pk)},
        {"q": "kafka", "space": str(acme_space.pk)},
        {"q": "kafka", "author": str(world.globex_member.pk)},
        {"q": "nothing", "author": str(world.globex_member.pk), "space": str(square.pk)},
        {"q": "kafka", "space": "999999"},
        {"q": "widget"},
        {"q": "widget", "page": "2"},
        {"q": "widget", "page": "2", "space": str(square.pk)},
    ]
    viewers: list[User | AnonymousUser] = [
        world.acme_user,
        world.globex_user,
        world.outsider,
        world.admin,
        sales,
        AnonymousUser(),
    ]
    for _ in range(2):  # rendering the frame, then filling it from the cache
        for user in viewers:
            for query in queries:
                kept, own = _both(user, query)
                assert kept == own, (str(user), query)
    assert any(k for k in cache._cache if ":search-frame:" in k)  # type: ignore[attr-defined]  # locmem's store
    # Each customer's kept page is their own: Acme's private space for Carla, never for Gus.
    assert "renewal" in _both(world.acme_user, {"q": "kafka"})[0]
    assert "renewal" not in _both(world.globex_user, {"q": "kafka"})[0]
    for user, member in ((world.acme_user, world.acme_member), (world.globex_user, world.globex_member)):
        assert f'>{member.name}</a>\n      <form method="post"' in _both(user, {"q": "kafka"})[0]
    assert 'class="unread-badge"' in _both(world.acme_user, {"q": "kafka"})[0]


def test_a_message_waiting_gets_the_page_rendered_alone(world: World) -> None:
    views_inbox._search(_request(world.acme_user, {"q": "kafka"}))  # the frame is kept
    request = _request(world.acme_user, {"q": "kafka"})
    messages.success(request, "Saved, thanks")
    assert "Saved, thanks" in views_inbox._search(request).content.decode()


def test_a_hits_date_is_the_date_filters() -> None:
    for when in (datetime(2026, 1, 5, 23, 59, tzinfo=UTC), datetime(2025, 12, 31, 0, 0), "2026-03-04"):
        hit = Hit(1, 2, "T", 3, "S", "s", 4, "A", when, "snip", 1.0)
        assert f"A · {date_filter(when, 'j M Y')}\n" in render_hits([hit], q="x", space_id=None, author_id=None)
    # The months' names are kept per language (search_html._months), not for the first one asked.
    march = datetime(2026, 3, 4, tzinfo=UTC)
    hit = Hit(1, 2, "T", 3, "S", "s", 4, "A", march, "snip", 1.0)
    assert "A · 4 Mar 2026\n" in render_hits([hit], q="x", space_id=None, author_id=None)
    with translation.override("de"):
        assert date_filter(march, "j M Y") == "4 Mär 2026"
        assert "A · 4 Mär 2026\n" in render_hits([hit], q="x", space_id=None, author_id=None)
