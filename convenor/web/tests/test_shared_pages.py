"""Thread and space pages for logged-in readers, rendered once and kept for all of them
(views_spaces._shared_posts and _space_page, post_html.personalise): each reader still gets
exactly their own page, nothing changes late, and nothing reaches anybody who may not see it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from convenor.core.models import Notification, StaffRole, User
from convenor.core.notify import Note, notify
from convenor.core.testing import World
from convenor.feedback.models import BoardVisibility, IdeaSource
from convenor.feedback.services import board_create, idea_from_post
from convenor.feedback.templatetags.feedback_tags import page_posts
from convenor.people.models import Affiliation, Role
from convenor.people.services import account_create, member_create
from convenor.spaces.models import Frame, Post, PostState, Space, Thread, Visibility
from convenor.spaces.services import (
    follow_set,
    post_edit,
    post_reply,
    reaction_toggle,
    space_create,
    space_join,
    space_leave,
    space_remove_member,
    space_set_role,
    thread_create,
    thread_moderate,
)
from convenor.web import views_spaces
from convenor.web.post_html import REACT_FORM


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
    """The page without its CSRF tokens, and with a personal feed link's signing time and
    signature masked (two renders a second apart sign the same member's link differently)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r':[^:"/]+:[^:"/]+(?=" class="feed-link")', ":TIME:SIGNATURE", html)


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


def test_kept_public_pages_read_the_session_with_the_thread_or_space_and_the_readers_facts(
    globex_client: Client, world: World, square: Space
) -> None:
    thread, replies = _conversation(world, square)
    reaction_toggle(post=replies[1], member=world.globex_member, kind="celebrate")
    # (Unread notifications about other places than spaces are read through their own gate.)
    Notification.objects.filter(recipient=world.globex_user).update(read_at=timezone.now())
    url = reverse("web:thread_detail", args=[thread.pk])
    first = _page(globex_client, url)  # kept now, and the session's account known
    with CaptureQueriesContext(connection) as queries:
        again = _page(globex_client, url)
    assert _untokened(again) == _untokened(first)
    assert 'value="celebrate" class="chip mine" aria-pressed="true"' in again
    # One query: the session (its account known from the first page), the thread and its
    # space, the reader's facts and their reactions.
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len(sqls) == 1, "\n".join(q[:150] for q in sqls)
    assert all(part in sqls[0] for part in ("django_session", "core_user", "spaces_thread t", "spaces_reaction"))
    # Read back from the cache (another process, or pushed out of this one's memo), the kept
    # page comes without its posts, which are read from their own entry: the same page.
    from convenor.web import pagecache

    pagecache._local.clear()
    assert _untokened(_page(globex_client, url)) == _untokened(first)
    # The space page alike: the session with the space and the reader's facts.
    space_url = reverse("web:space_detail", args=[square.slug])
    first = _page(globex_client, space_url)
    with CaptureQueriesContext(connection) as queries:
        again = _page(globex_client, space_url)
    assert _untokened(again) == _untokened(first) and "Kafka lag" in again
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len(sqls) == 1, "\n".join(q[:150] for q in sqls)
    assert "spaces_space s LEFT JOIN people_member m" in sqls[0] and "django_session" in sqls[0]


@pytest.mark.parametrize("page", ["thread", "space"])
def test_a_session_read_with_the_page_keeps_every_rule_of_the_session(
    globex_client: Client, world: World, square: Space, page: str
) -> None:
    """The session read in the page's own query (views_spaces._read_with_session) is the
    session read alone: ended, expired, another account's or a deactivated account's, the
    page is what that session gives, and a page that is not found still knows its viewer."""
    thread, _ = _conversation(world, square)
    url = (
        reverse("web:thread_detail", args=[thread.pk])
        if page == "thread"
        else reverse("web:space_detail", args=[square.slug])
    )
    assert _who(_page(globex_client, url)) == "Gus Globex"  # the session's account known now
    key = globex_client.cookies[settings.SESSION_COOKIE_NAME].value

    # A missing thread or space: nothing read with it, the session read on its own.
    missing = (
        reverse("web:thread_detail", args=[thread.pk + 1000])
        if page == "thread"
        else reverse("web:space_detail", args=["no-such-space"])
    )
    gone = globex_client.get(missing)
    assert gone.status_code == 404 and _who(gone.content.decode()) == "Gus Globex"

    # The session now names another account (its data rewritten under the same key): the
    # page is that account's, its facts read again for them.
    store = SessionStore(key)
    data = store.load()
    data.update({SESSION_KEY: str(world.acme_user.pk), HASH_SESSION_KEY: world.acme_user.get_session_auth_hash()})
    Session.objects.filter(session_key=key).update(session_data=store.encode(data))
    assert _who(_page(globex_client, url)) == "Carla Acme"
    # Back to Globex, whose account is then deactivated: nobody, so the visitors' page.
    data.update({SESSION_KEY: str(world.globex_user.pk), HASH_SESSION_KEY: world.globex_user.get_session_auth_hash()})
    Session.objects.filter(session_key=key).update(session_data=store.encode(data))
    assert _who(_page(globex_client, url)) == "Gus Globex"
    User.objects.filter(pk=world.globex_user.pk).update(is_active=False)
    assert _who(_page(globex_client, url)) is None
    User.objects.filter(pk=world.globex_user.pk).update(is_active=True)
    assert _who(_page(globex_client, url)) == "Gus Globex"
    # An expired session, then an ended one: the visitors' page.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert _who(_page(globex_client, url)) is None
    Session.objects.filter(session_key=key).delete()
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = key
    assert _who(_page(stale, url)) is None


def _who(html: str) -> str | None:
    """The name in the top bar's corner of the logged-in viewer (_usernav.html), or None."""
    found = re.search(r'class="who"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


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
    # The page, list included, is kept for readers alike.
    assert any(k for k in cache._cache if ":space-page:" in k)  # type: ignore[attr-defined]  # locmem's store
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


# --- whole pages kept for readers alike (views_spaces._reader_thread_page, _reader_space_page) ---


def _full_request(user: User, path: str, session_key: str | None = None) -> HttpRequest:
    """A request as the middleware leaves it: user, session, messages, resolved URL."""
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore(session_key)
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]  # what MessageMiddleware sets
    request.resolver_match = resolve(request.path)
    return request


def _both(user: User, path: str) -> tuple[str, str]:
    """The page as kept for readers alike and made this user's, and as rendered for them alone."""
    match = resolve(path.split("?")[0])
    view = views_spaces._thread_detail if match.url_name == "thread_detail" else views_spaces._space_detail
    pages = []
    for share in (True, False):
        response = view(_full_request(user, path), *match.args, **match.kwargs, share=share)
        assert response.status_code == 200
        pages.append(_untokened(response.content.decode()))
    return pages[0], pages[1]


def test_the_kept_whole_pages_are_exactly_each_readers_own(world: World, square: Space) -> None:
    thread, replies = _conversation(world, square)
    question = thread_create(space=square, author=world.globex_member, title="How?", body="Tell me", kind="question")
    post_reply(thread=question, author=world.acme_member, body="Like this")
    reaction_toggle(post=replies[0], member=world.acme_member, kind="thanks")
    space_join(space=square, member=world.acme_member)
    follow_set(member=world.acme_member, on=True, thread=thread)
    space_join(space=square, member=world.outsider_member)
    space_leave(space=square, member=world.outsider_member)
    sales = account_create(
        email="sam@northwind.example", password="x" * 12, name="Sam Sales", staff_role=StaffRole.SALES
    )
    notify([world.acme_user], Note(kind="mention", title="You were mentioned", url="/", key="k1"))
    paths = [
        reverse("web:thread_detail", args=[thread.pk]),
        reverse("web:thread_detail", args=[thread.pk]) + "?page=1",
        reverse("web:thread_detail", args=[question.pk]),
        reverse("web:space_detail", args=[square.slug]),
        reverse("web:space_detail", args=[square.slug]) + "?tab=unanswered",
    ]
    for user in (world.acme_user, world.globex_user, world.outsider, sales):
        for path in paths:
            kept, own = _both(user, path)
            assert kept == own, (user.email, path)
    # Filled from what is kept (the second time), still each one's own page.
    for user in (world.globex_user, world.acme_user):
        kept, own = _both(user, paths[0])
        assert kept == own
    assert any(k for k in cache._cache if ":thread-page:" in k)  # type: ignore[attr-defined]  # locmem's store


def test_a_private_spaces_kept_page_carries_each_readers_own_feed(world: World, acme_space: Space) -> None:
    dora = member_create(name="Dora Acme", email="dora@acme.example", role=Role.CUSTOMER, organization=world.acme)
    dora_user = account_create(email="dora@acme.example", password="x" * 12)
    thread_create(space=acme_space, author=world.acme_member, title="Acme plans", body="Plans")
    path = reverse("web:space_detail", args=[acme_space.slug])
    pages = {}
    for user in (world.acme_user, dora_user):
        kept, own = _both(user, path)
        assert kept == own and "Acme plans" in kept
        pages[user.pk] = kept
    feeds = {re.findall(r'href="([^"]+)" class="feed-link"', p)[0] for p in pages.values()}
    assert len(feeds) == 2 and dora.pk


def test_what_a_reader_does_shows_on_their_next_kept_page(
    globex_client: Client, acme_client: Client, world: World, square: Space
) -> None:
    thread, replies = _conversation(world, square)
    url = reverse("web:thread_detail", args=[thread.pk])
    space_url = reverse("web:space_detail", args=[square.slug])
    for client in (globex_client, acme_client):  # kept now
        _page(client, url)
        _page(client, space_url)

    # A new notification: the badge shows at once, and goes when it is read.
    Notification.objects.update(read_at=timezone.now())
    assert "unread-badge" not in _page(globex_client, url)
    notify([world.globex_user], Note(kind="mention", title="You were mentioned", url="/", key="n1"))
    assert 'aria-label="1 unread"' in _page(globex_client, url)
    assert 'aria-label="1 unread"' in _page(globex_client, space_url)
    assert "unread-badge" not in _page(acme_client, url)
    Notification.objects.filter(recipient=world.globex_user).update(read_at=timezone.now())
    assert "unread-badge" not in _page(globex_client, url)

    # Following the thread and the space, joining and leaving.
    # (Both follow the thread they wrote in.)
    follow_set(member=world.globex_member, on=False, thread=thread)
    assert ">Unfollow</button>" not in _page(globex_client, url)
    assert ">Unfollow</button>" in _page(acme_client, url)
    follow_set(member=world.globex_member, on=True, thread=thread)
    assert ">Unfollow</button>" in _page(globex_client, url)
    space_join(space=square, member=world.globex_member)
    page = _page(globex_client, space_url)
    assert ">Leave</button>" in page and ">Unfollow</button>" in page  # joining follows the space
    space_leave(space=square, member=world.globex_member)
    assert "You left this space. Join it again to post." in _page(globex_client, space_url)
    page = _page(globex_client, url)
    assert "You left this space." in page and "Post reply" not in page
    assert "Post reply" in _page(acme_client, url)

    # A reply, an edit and a reaction by someone else: seen by both on the next request.
    post_reply(thread=thread, author=world.admin_member, body="Late news")
    post_edit(post=replies[1], editor=world.acme_member, body="Acme edited this")
    reaction_toggle(post=replies[1], member=world.acme_member, kind="celebrate")
    for client in (globex_client, acme_client):
        page = _page(client, url)
        assert "Late news" in page and "Acme edited this" in page and "Celebrate <strong>1</strong>" in page
        assert "Late news" in _page(client, space_url) or "Kafka lag" in _page(client, space_url)
    pressed = 'value="celebrate" class="chip mine" aria-pressed="true"'
    assert pressed in _page(acme_client, url) and pressed not in _page(globex_client, url)
    # A message waiting (after an action) is shown once, on the reader's own page.
    response = globex_client.post(reverse("web:thread_follow", args=[thread.pk]), {"on": "0"}, follow=True)
    assert "You no longer follow this thread." in response.content.decode()
    assert "You no longer follow this thread." not in _page(globex_client, url)


def test_ideas_linked_to_posts_reach_only_readers_of_their_board(
    globex_client: Client, acme_client: Client, world: World, square: Space
) -> None:
    thread, replies = _conversation(world, square)
    url = reverse("web:thread_detail", args=[thread.pk])
    for client in (globex_client, acme_client):  # kept now, with no idea linked
        assert "💡 Ideas from this conversation" not in _page(client, url)
    board = board_create(name="Acme wishes", visibility=BoardVisibility.ACCOUNT, organization=world.acme)
    idea_from_post(post=replies[1], board=board, by=world.acme_member, title="Acme-only wish")
    assert "Acme-only wish" in _page(acme_client, url)
    for _ in range(2):
        assert "Acme-only wish" not in _page(globex_client, url)
    IdeaSource.objects.all().delete()
    assert "Acme-only wish" not in _page(acme_client, url)


def test_leaving_a_private_space_loses_its_kept_pages_at_once(
    acme_client: Client, globex_client: Client, world: World, acme_space: Space
) -> None:
    thread = thread_create(space=acme_space, author=world.admin_member, title="Account plans", body="Plans")
    url = reverse("web:thread_detail", args=[thread.pk])
    space_url = reverse("web:space_detail", args=[acme_space.slug])
    assert "Account plans" in _page(acme_client, url) and "Account plans" in _page(acme_client, space_url)
    for _ in range(2):
        assert globex_client.get(url).status_code == 404
        assert globex_client.get(space_url).status_code == 404
    # Carla leaves Acme (the organisation): its private space is gone for her at once.
    Affiliation.objects.filter(member=world.acme_member, organization=world.acme).update(ended_on=timezone.now().date())
    assert acme_client.get(url).status_code == 404
    assert acme_client.get(space_url).status_code == 404


@pytest.mark.parametrize("locked", [False, True])
def test_readers_with_nothing_of_theirs_or_only_their_own_posts_get_their_own_page(
    world: World, square: Space, locked: bool
) -> None:
    thread, replies = _conversation(world, square)
    if locked:
        thread_moderate(thread=thread, locked=True)
    path = reverse("web:thread_detail", args=[thread.pk])
    # Globex wrote a post and reacted to none; the outsider has nothing on the page.
    for user in (world.globex_user, world.outsider, world.globex_user, world.outsider):
        kept, own = _both(user, path)
        assert kept == own, user.email
    response = views_spaces._thread_detail(_full_request(world.outsider, path), thread.pk)
    html = response.content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', html)
    assert len(set(tokens)) == 1 and len(tokens[0]) == 64
    # The reactions' one form holds the token; every post's buttons submit it.
    form = f'<form id="{REACT_FORM}" method="post" hidden><input type="hidden" name="csrfmiddlewaretoken"'
    assert html.count(form) == 1
    assert html.count(f'<button form="{REACT_FORM}" formaction=') >= len(replies)
    assert "\x00" not in html
