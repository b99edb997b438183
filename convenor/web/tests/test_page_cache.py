"""The anonymous page cache (convenor/web/pagecache.py), the search cache, and the posts
written in Python (convenor/web/post_html.py): fast, and never stale or leaking."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from convenor.core.testing import World
from convenor.spaces import search
from convenor.spaces.models import Frame, Space, Visibility
from convenor.spaces.services import (
    answer_accept,
    post_edit,
    post_reply,
    reaction_toggle,
    space_create,
    thread_create,
    thread_moderate,
)

CACHE = "X-Convenor-Cache"


@pytest.fixture
def square(world: World) -> Space:
    return space_create(
        name="Town square", frame=Frame.COMMUNITY, visibility=Visibility.PUBLIC, creator=world.admin_member
    )


def _get(client: Client, url: str, **params: str) -> tuple[str, str | None]:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode(), response.get(CACHE)


def test_public_thread_page_is_cached_for_visitors_and_changes_with_the_thread(
    client: Client, world: World, square: Space
) -> None:
    thread = thread_create(
        space=square, author=world.acme_member, title="Kafka lag", body="Opening words", kind="question"
    )
    url = reverse("web:thread_detail", args=[thread.pk])
    first, state = _get(client, url)
    assert state == "miss" and "Opening words" in first
    again, state = _get(client, url)
    assert state == "hit" and again == first

    reply = post_reply(thread=thread, author=world.globex_member, body="A fresh reply")
    page, state = _get(client, url)
    assert state == "miss" and "A fresh reply" in page

    post_edit(post=reply, editor=world.globex_member, body="An edited reply")
    page, _ = _get(client, url)
    assert "An edited reply" in page and "A fresh reply" not in page and ">edited</a>" in page

    reaction_toggle(post=reply, member=world.acme_member, kind="thanks")
    page, _ = _get(client, url)
    assert "Thanks <strong>1</strong>" in page

    answer_accept(thread=thread, post=reply, by=world.acme_member)
    page, _ = _get(client, url)
    assert "✓ Accepted answer" in page

    thread_moderate(thread=thread, locked=True)
    page, _ = _get(client, url)
    assert "This thread is locked" in page


def test_logged_in_viewers_never_get_the_visitors_page(
    client: Client, acme_client: Client, world: World, square: Space
) -> None:
    thread = thread_create(space=square, author=world.acme_member, title="Hello", body="Words")
    url = reverse("web:thread_detail", args=[thread.pk])
    _get(client, url)
    assert _get(client, url)[1] == "hit"
    page, state = _get(acme_client, url)
    assert state is None
    assert "Log out" in page and 'name="csrfmiddlewaretoken"' in page and "Reply to this" in page
    assert "Edit</a>" in page  # Carla wrote it
    visitor, _ = _get(client, url)
    assert "Log out" not in visitor and "csrfmiddlewaretoken" not in visitor and "Edit</a>" not in visitor


def test_private_threads_are_never_cached_nor_served_to_visitors(
    client: Client, acme_client: Client, world: World, square: Space, lounge: Space, acme_space: Space
) -> None:
    for space in (lounge, acme_space):
        thread = thread_create(space=space, author=world.acme_member, title="Inside", body="Private words")
        url = reverse("web:thread_detail", args=[thread.pk])
        page, state = _get(acme_client, url)
        assert "Private words" in page and state is None
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 302 and CACHE not in response
        assert client.get(reverse("web:space_detail", args=[space.slug])).status_code == 302

    # A public space made private stops being served from the cache at once.
    thread = thread_create(space=square, author=world.acme_member, title="Soon private", body="Was public")
    url = reverse("web:thread_detail", args=[thread.pk])
    _get(client, url)
    assert _get(client, url)[1] == "hit"
    Space.objects.filter(pk=square.pk).update(visibility=Visibility.MEMBERS)
    assert client.get(url).status_code == 302
    assert client.get(reverse("web:space_detail", args=[square.slug])).status_code == 302


def test_public_space_page_is_cached_and_changes_with_its_threads(client: Client, world: World, square: Space) -> None:
    thread = thread_create(space=square, author=world.acme_member, title="First thread", body="Hi")
    url = reverse("web:space_detail", args=[square.slug])
    page, state = _get(client, url)
    assert state == "miss" and "First thread" in page
    assert _get(client, url)[1] == "hit"
    assert _get(client, url, tab="unanswered")[1] == "miss"

    thread_create(space=square, author=world.globex_member, title="Second thread", body="Hello")
    page, state = _get(client, url)
    assert state == "miss" and "Second thread" in page and "2 threads" in page

    post_reply(thread=thread, author=world.globex_member, body="Answer")
    page, _ = _get(client, url)
    assert "<strong>1</strong> reply" in page

    thread_moderate(thread=thread, pinned=True)
    assert "Pinned" in _get(client, url)[0]

    # Parameters the page does not know are not cached (they could be anything).
    assert _get(client, url, utm="x")[1] is None


def test_names_are_escaped_in_posts(client: Client, world: World, square: Space) -> None:
    world.acme_member.name = "<script>alert(1)</script> Carla"
    world.acme_member.save()
    thread = thread_create(space=square, author=world.acme_member, title="T", body="<script>x()</script> hello")
    page, _ = _get(client, reverse("web:thread_detail", args=[thread.pk]))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Carla" in page


def test_visitors_search_public_spaces_only(client: Client, world: World, square: Space, lounge: Space) -> None:
    thread_create(space=square, author=world.acme_member, title="Zeppelin in public", body="zeppelin outside")
    thread_create(space=lounge, author=world.acme_member, title="Zeppelin for members", body="zeppelin inside")
    page, _ = _get(client, reverse("web:search"), q="zeppelin")
    assert "Zeppelin in public" in page and "Zeppelin for members" not in page


def test_search_results_change_with_new_and_edited_posts(acme_client: Client, world: World, square: Space) -> None:
    thread = thread_create(space=square, author=world.acme_member, title="Balloons", body="hydrogen balloons")
    url = reverse("web:search")
    assert "1 result" in _get(acme_client, url, q="hydrogen")[0]
    reply = post_reply(thread=thread, author=world.globex_member, body="hydrogen is risky")
    assert "2 results" in _get(acme_client, url, q="hydrogen")[0]
    post_edit(post=reply, editor=world.globex_member, body="helium is safer")
    page = _get(acme_client, url, q="hydrogen")[0]
    assert "1 result" in page
    assert "helium" in _get(acme_client, url, q="helium")[0]


def test_search_count_stops_at_the_cap(
    acme_client: Client, world: World, square: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = thread_create(space=square, author=world.acme_member, title="Walrus", body="walrus one")
    for i in range(5):
        post_reply(thread=thread, author=world.globex_member, body=f"walrus again {i} " + "walrus " * i)
    published = list(thread.posts.filter(state="published").order_by("pk").values_list("pk", flat=True))
    assert len(published) >= 5
    full = search.search_posts(viewer=world.acme_user, q="walrus", page_size=2)
    assert full.total == len(published) and not full.capped and full.pages == -(-len(published) // 2)
    # Past the cap, the newest COUNT_CAP + 1 matches are counted ("3+") and ranked.
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    from django.core.cache import cache

    cache.clear()
    result = search.search_posts(viewer=world.acme_user, q="walrus", page_size=2)
    assert result.total == 4 and result.capped and result.pages == 2
    newest = sorted(
        (
            h
            for p in (1, 2, 3)
            for h in search.search_posts(viewer=world.acme_user, q="walrus", page=p, page_size=2).hits
        ),
        key=lambda h: h.post_id,
    )
    assert [h.post_id for h in newest] == published[-4:]
    # Ranked best first among them: the reply that says walrus most leads.
    assert result.hits[0].post_id == max(h.post_id for h in newest)


def test_capped_search_candidates_are_only_what_the_viewer_may_read(
    world: World, square: Space, acme_space: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest matches are taken with the viewer's filter in the same query: Acme's newer
    private posts neither show to Globex nor push Globex's readable matches out of the cap."""
    from django.core.cache import cache

    public = thread_create(space=square, author=world.acme_member, title="Narwhal", body="narwhal facts")
    for i in range(3):
        post_reply(thread=public, author=world.globex_member, body=f"narwhal tusk {i}")
    private = thread_create(space=acme_space, author=world.acme_member, title="Narwhal plans", body="narwhal secret")
    for i in range(4):
        post_reply(thread=private, author=world.acme_member, body=f"narwhal secret {i}")
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    cache.clear()
    result = search.search_posts(viewer=world.globex_user, q="narwhal", page_size=10)
    published = set(public.posts.filter(state="published").values_list("pk", flat=True))
    assert {h.post_id for h in result.hits} <= published and len(published) >= 3
    assert all(h.space_id == square.pk for h in result.hits)
    assert result.total == min(len(published), 4)
    # Acme's own people find their private posts too.
    mine = search.search_posts(viewer=world.acme_user, q="secret", page_size=10)
    assert mine.hits and all(h.space_id == acme_space.pk for h in mine.hits)
    assert not search.search_posts(viewer=world.globex_user, q="secret").hits


def test_search_finds_a_prefix_when_whole_words_find_few(acme_client: Client, world: World, square: Space) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("prefixes are FTS5's (PostgreSQL's websearch_to_tsquery takes whole words)")
    thread_create(space=square, author=world.acme_member, title="Clusters", body="kubernetes clusters")
    page, _ = _get(acme_client, reverse("web:search"), q="kuber")
    assert "1 result" in page and "<mark>" in page


def test_keys_are_digests_of_what_the_page_depends_on_remembered_for_hashable_parts() -> None:
    from convenor.web import pagecache

    parts = (("thread", 7, "title"), "/threads/7/", "", (False, True, False))
    first = pagecache.key("thread-page", *parts)
    assert first == pagecache._key("thread-page", parts) == pagecache.key("thread-page", *parts)
    assert ("thread-page", parts) in pagecache._KEYS._entries
    assert pagecache.key("thread-page", *parts[:-1], (False, False, False)) != first
    assert pagecache.key("space-page", *parts) != first
    # Unhashable parts (lists) are worked out each time, to the same key for the same values.
    assert pagecache.key("threads", [("page", ["2"])]) == pagecache.key("threads", [("page", ["2"])])
    assert pagecache.key("threads", [("page", ["2"])]) != pagecache.key("threads", [("page", ["3"])])
