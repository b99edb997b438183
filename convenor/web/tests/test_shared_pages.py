"""Thread and space pages for logged-in readers, rendered once and kept for all of them
(views_spaces._shared_posts and _space_page, post_html.personalise): each reader still gets
exactly their own page, nothing changes late, and nothing reaches anybody who may not see it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse

from convenor.core.models import User
from convenor.core.testing import World
from convenor.feedback.templatetags.feedback_tags import page_posts
from convenor.spaces.models import Frame, Post, PostState, Space, Thread, Visibility
from convenor.spaces.services import (
    post_edit,
    post_reply,
    reaction_toggle,
    space_create,
    space_join,
    space_remove_member,
    space_set_role,
    thread_create,
    thread_moderate,
)
from convenor.web import views_spaces


@pytest.fixture
def square(world: World) -> Space:
    space = space_create(
        name="Town square", frame=Frame.COMMUNITY, visibility=Visibility.PUBLIC, creator=world.admin_member
    )
    space.charter_threshold = 0.97
    space.save(update_fields=["charter_threshold"])
    return space


def _page(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def _untokened(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _conversation(world: World, square: Space) -> tuple[Thread, list[Post]]:
    thread = thread_create(
        space=square, author=world.acme_member, title="Kafka lag", body="Opening words", kind="discussion"
    )
    replies = [
        post_reply(thread=thread, author=world.globex_member, body="Globex replies"),
        post_reply(thread=thread, author=world.acme_member, body="Acme replies"),
        post_reply(thread=thread, author=world.admin_member, body="Admin replies"),
    ]
    return thread, replies


def _request(user: User | AnonymousUser, path: str) -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    return request


@pytest.mark.parametrize("locked", [False, True])
def test_the_kept_posts_made_a_readers_own_are_exactly_their_own_render(
    world: World, square: Space, locked: bool
) -> None:
    thread, replies = _conversation(world, square)
    reaction_toggle(post=replies[0], member=world.globex_member, kind="thanks")
    reaction_toggle(post=replies[2], member=world.globex_member, kind="like")
    reaction_toggle(post=replies[2], member=world.globex_member, kind="insightful")
    reaction_toggle(post=replies[2], member=world.acme_member, kind="like")
    if locked:
        thread_moderate(thread=thread, locked=True)
    path = reverse("web:thread_detail", args=[thread.pk])
    pages = {}
    for user, member in ((world.globex_user, world.globex_member), (world.admin, None), (world.outsider, None)):
        fresh = Thread.objects.select_related("space", "author").get(pk=thread.pk)
        request = _request(user, path)
        shared = views_spaces._shared_posts(request, fresh, member)
        assert shared is not None
        own_page, own_html = views_spaces._own_posts(request, fresh, member, False, True)
        # Equal but for the CSRF token, which every get_token() masks afresh.
        assert _untokened(str(shared[1])) == _untokened(str(own_html))
        assert 'name="csrfmiddlewaretoken" value=""' not in str(shared[1])
        assert shared[0].number == own_page.number and shared[0].paginator.count == own_page.paginator.count
        # The feedback partial's "make an idea" list, kept with them, names the same posts.
        assert shared[2] == page_posts(own_page.object_list)
        pages[user.pk] = str(shared[1])
    # Globex's reactions are pressed, and their own reply has Edit while the thread is open.
    globex = pages[world.globex_user.pk]
    assert globex.count('class="chip mine" aria-pressed="true"') == 3
    assert (f'href="{reverse("web:post_edit", args=[replies[0].pk])}">Edit</a>' in globex) is not locked
    assert "chip mine" not in pages[world.outsider.pk]


def test_a_reader_sees_their_reactions_and_edit_links_and_others_do_not(
    globex_client: Client, acme_client: Client, world: World, square: Space
) -> None:
    thread, replies = _conversation(world, square)
    url = reverse("web:thread_detail", args=[thread.pk])
    _page(globex_client, url)  # kept now
    reaction_toggle(post=replies[1], member=world.globex_member, kind="celebrate")

    globex = _page(globex_client, url)
    acme = _page(acme_client, url)
    pressed = 'value="celebrate" class="chip mine" aria-pressed="true"'
    assert pressed in globex and pressed not in acme
    assert "Celebrate <strong>1</strong>" in acme
    edit_globex = reverse("web:post_edit", args=[replies[0].pk])
    edit_acme = reverse("web:post_edit", args=[replies[1].pk])
    assert f'href="{edit_globex}">Edit</a>' in globex and f'href="{edit_acme}">Edit</a>' not in globex
    assert f'href="{edit_acme}">Edit</a>' in acme and f'href="{edit_globex}">Edit</a>' not in acme
    # Each page carries its own session's token, not the one of whoever filled the cache.
    tokens = {re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', p)[0] for p in (globex, acme)}
    assert len(tokens) == 2


def test_the_make_an_idea_list_comes_with_the_kept_posts_and_follows_edits(
    globex_client: Client, world: World, square: Space
) -> None:
    thread, replies = _conversation(world, square)
    url = reverse("web:thread_detail", args=[thread.pk])
    page = _page(globex_client, url)  # kept now
    offers = re.findall(r'<a href="([^"]+)" data-post="(\d+)">Make an idea', page)
    posts = Post.objects.filter(thread=thread).order_by("created_at", "pk")
    assert offers == [(reverse("feedback:from_post", args=[p.pk]), str(p.pk)) for p in posts]
    assert "· Gus Globex: Globex replies</span>" in page

    post_edit(post=replies[0], editor=world.globex_member, body="Fish & chips *now*, " + "x" * 100)
    page = _page(globex_client, url)
    # The words of the post (not its Markdown), escaped once, cut short with an ellipsis.
    assert "· Gus Globex: Fish &amp; chips now, xxx" in page and "· Gus Globex: Globex replies" not in page
    assert "x" * 60 + "…</span>" in page


def test_replies_edits_and_moderation_show_at_once_to_logged_in_readers(
    globex_client: Client, world: World, square: Space
) -> None:
    thread, replies = _conversation(world, square)
    url = reverse("web:thread_detail", args=[thread.pk])
    assert "Acme replies" in _page(globex_client, url)

    post_reply(thread=thread, author=world.acme_member, body="A brand new reply")
    assert "A brand new reply" in _page(globex_client, url)

    post_edit(post=replies[1], editor=world.acme_member, body="Acme changed its mind")
    page = _page(globex_client, url)
    assert "Acme changed its mind" in page and "Acme replies" not in page

    reaction_toggle(post=replies[1], member=world.acme_member, kind="insightful")
    assert "Insightful <strong>1</strong>" in _page(globex_client, url)

    thread_moderate(thread=thread, locked=True)
    page = _page(globex_client, url)
    assert "This thread is locked" in page and "Reply to this" not in page
    assert f'href="{reverse("web:post_edit", args=[replies[0].pk])}">Edit</a>' not in page


def test_held_posts_reach_only_their_author_and_moderators(
    globex_client: Client, acme_client: Client, admin_client: Client, world: World, square: Space
) -> None:
    thread, _ = _conversation(world, square)
    url = reverse("web:thread_detail", args=[thread.pk])
    _page(acme_client, url)
    _page(globex_client, url)
    held = post_reply(thread=thread, author=world.globex_member, body="Buy our premium plan today")
    Post.objects.filter(pk=held.pk).update(state=PostState.HELD)
    Thread.objects.filter(pk=thread.pk).update(version=thread.version + 100)  # whatever the charter bumps

    assert "Buy our premium plan today" in _page(globex_client, url)
    assert "Held for review" in _page(globex_client, url)
    assert "Buy our premium plan today" in _page(admin_client, url)
    for _ in range(2):
        assert "Buy our premium plan today" not in _page(acme_client, url)
    # A held thread is listed only for its author (and moderators) on the space page too.
    held_thread = thread_create(space=square, author=world.globex_member, title="A held pitch", body="Words")
    space_url = reverse("web:space_detail", args=[square.slug])
    _page(acme_client, space_url)
    Thread.objects.filter(pk=held_thread.pk).update(state=PostState.HELD)
    Space.objects.filter(pk=square.pk).update(version=square.version + 100)
    assert "A held pitch" in _page(globex_client, space_url)
    assert "A held pitch" in _page(admin_client, space_url)
    assert "A held pitch" not in _page(acme_client, space_url)


def test_the_space_page_list_is_shared_and_follows_new_threads(
    globex_client: Client, acme_client: Client, world: World, square: Space
) -> None:
    url = reverse("web:space_detail", args=[square.slug])
    thread_create(space=square, author=world.acme_member, title="First thread", body="Hi")
    assert "First thread" in _page(globex_client, url)
    assert "First thread" in _page(acme_client, url)
    assert any(k for k in cache._cache if ":threads:" in k)  # type: ignore[attr-defined]  # locmem's store
    thread_create(space=square, author=world.globex_member, title="Second thread", body="Hello")
    page = _page(acme_client, url)
    assert "Second thread" in page and "2 threads" in page
    assert "Every thread here has a reply." not in _page(acme_client, url, tab="unanswered")


def test_private_content_never_reaches_other_organisations(
    acme_client: Client, globex_client: Client, world: World, acme_space: Space
) -> None:
    thread = thread_create(space=acme_space, author=world.acme_member, title="Acme only", body="Secret words")
    post_reply(thread=thread, author=world.acme_member, body="More secret words")
    url = reverse("web:thread_detail", args=[thread.pk])
    space_url = reverse("web:space_detail", args=[acme_space.slug])
    assert "More secret words" in _page(acme_client, url)
    assert "Acme only" in _page(acme_client, space_url)
    for _ in range(2):
        assert globex_client.get(url).status_code == 404
        assert globex_client.get(space_url).status_code == 404
        assert Client().get(url).status_code == 302


def test_losing_access_shows_at_once(
    acme_client: Client, globex_client: Client, world: World, acme_space: Space
) -> None:
    thread = thread_create(space=acme_space, author=world.admin_member, title="Account plans", body="Plans")
    post_reply(thread=thread, author=world.admin_member, body="More plans")
    url = reverse("web:thread_detail", args=[thread.pk])
    space_url = reverse("web:space_detail", args=[acme_space.slug])
    assert "More plans" in _page(acme_client, url) and "Account plans" in _page(acme_client, space_url)
    assert globex_client.get(url).status_code == 404

    # A moderator removes Carla from Acme's space: the kept pages are not hers any more.
    space_remove_member(space=acme_space, member=world.acme_member, actor=world.admin)
    assert acme_client.get(url).status_code == 404
    assert acme_client.get(space_url).status_code == 404


def test_a_new_moderator_gets_their_own_page_at_once(globex_client: Client, world: World, square: Space) -> None:
    thread, replies = _conversation(world, square)
    url = reverse("web:thread_detail", args=[thread.pk])
    acme_edit = f'href="{reverse("web:post_edit", args=[replies[1].pk])}">Edit</a>'
    assert acme_edit not in _page(globex_client, url)
    space_join(space=square, member=world.globex_member)
    space_set_role(space=square, member=world.globex_member, role="moderator", actor=world.admin)
    page = _page(globex_client, url)
    assert acme_edit in page and "Moderate" in page
