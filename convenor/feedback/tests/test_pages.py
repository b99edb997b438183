"""The feedback pages through the Django test client: who sees what, and each action."""

from __future__ import annotations

from django.test import Client

from convenor.core.models import Notification
from convenor.core.testing import World
from convenor.feedback import services
from convenor.feedback.models import Board, Idea, IdeaStatus, Vote
from convenor.spaces.models import Post, Space, Thread
from convenor.spaces.selectors import opening_post
from convenor.spaces.services import thread_create


def _acme_idea(world: World, acme_board: Board) -> Idea:
    idea = services.idea_create(board=acme_board, author=world.acme_member, title="Acme-only secret wish")
    services.status_change(idea=idea, to_status=IdeaStatus.SHIPPED, note="Shipped for Acme", by=world.admin)
    return idea


def test_globex_never_sees_acmes_private_board_or_ideas(
    world: World, acme_board: Board, public_board: Board, globex_client: Client, acme_client: Client
) -> None:
    idea = _acme_idea(world, acme_board)
    for url in ("/ideas/", "/ideas/roadmap/", "/ideas/changelog/", "/ideas/changelog/rss.xml"):
        body = globex_client.get(url).content.decode()
        assert "Acme-only secret wish" not in body and "Acme roadmap" not in body, url
    assert globex_client.get(f"/ideas/b/{acme_board.slug}/").status_code == 404
    assert globex_client.get(f"/ideas/{idea.pk}/").status_code == 404
    assert globex_client.post(f"/ideas/{idea.pk}/vote/").status_code == 404
    assert globex_client.post(f"/ideas/{idea.pk}/comment/", {"body": "hi"}).status_code == 404
    assert not Notification.objects.filter(recipient=world.globex_user).exists()
    # Acme sees its own board, idea and changelog entry; the public RSS feed never lists it.
    assert "Acme roadmap" in acme_client.get("/ideas/").content.decode()
    assert "Acme-only secret wish" in acme_client.get("/ideas/changelog/").content.decode()
    assert acme_client.get(f"/ideas/{idea.pk}/").status_code == 200
    assert "Acme-only secret wish" not in acme_client.get("/ideas/changelog/rss.xml").content.decode()
    # Anonymous visitors are asked to log in, not told it exists.
    resp = Client().get(f"/ideas/{idea.pk}/")
    assert resp.status_code in (302, 401, 404)


def test_board_lists_sorts_searches_and_paginates(world: World, public_board: Board, acme_client: Client) -> None:
    for n in range(25):
        services.idea_create(board=public_board, author=world.admin_member, title=f"Idea number {n}")
    popular = services.idea_create(board=public_board, author=world.admin_member, title="Popular dark mode")
    services.vote_cast(idea=popular, member=world.globex_member)
    page = acme_client.get(f"/ideas/b/{public_board.slug}/").content.decode()
    assert page.index("Popular dark mode") < page.index("Idea number")
    assert "Page 1 of 2" in page
    newest = acme_client.get(f"/ideas/b/{public_board.slug}/?sort=new&page=2").content.decode()
    assert "Idea number 0<" in newest and "Popular dark mode" not in newest
    assert "Popular dark mode" in acme_client.get(f"/ideas/b/{public_board.slug}/?sort=trending").content.decode()
    found = acme_client.get(f"/ideas/b/{public_board.slug}/?q=dark").content.decode()
    assert "Popular dark mode" in found and "Idea number" not in found
    empty = acme_client.get(f"/ideas/b/{public_board.slug}/?q=zebra").content.decode()
    assert "No ideas match" in empty
    assert "Popular dark mode" in Client().get(f"/ideas/b/{public_board.slug}/").content.decode()


def test_submitting_voting_commenting_and_following_through_pages(
    world: World, members_board: Board, acme_client: Client, globex_client: Client
) -> None:
    resp = acme_client.post(f"/ideas/b/{members_board.slug}/", {"title": "  ", "description": ""})
    assert resp.status_code == 200 and "This field is required" in resp.content.decode()
    assert not Idea.objects.exists()
    resp = acme_client.post(f"/ideas/b/{members_board.slug}/", {"title": "Bulk edit", "description": "Please"})
    idea = Idea.objects.get(title="Bulk edit")
    assert resp.status_code == 302 and resp["Location"] == f"/ideas/{idea.pk}/"
    globex_client.post(f"/ideas/{idea.pk}/vote/", {"importance": "3"})
    resp = globex_client.post(f"/ideas/{idea.pk}/vote/", {"importance": "3"}, follow=True)
    assert "You already voted for this idea" in resp.content.decode()
    assert Vote.objects.get(idea=idea).importance == 3
    globex_client.post(f"/ideas/{idea.pk}/comment/", {"body": "We need this too"})
    page = acme_client.get(f"/ideas/{idea.pk}/").content.decode()
    assert "We need this too" in page and "Gus Globex" in page
    globex_client.post(f"/ideas/{idea.pk}/follow/", {"on": "0"})
    idea.refresh_from_db()
    assert (idea.vote_count, idea.comment_count, idea.follower_count) == (1, 1, 1)


def test_a_vote_returns_to_the_board_but_never_to_another_site(
    world: World, members_board: Board, acme_client: Client, globex_client: Client
) -> None:
    idea = services.idea_create(board=members_board, author=world.acme_member, title="Bulk edit")
    board_url = f"/ideas/b/{members_board.slug}/"
    resp = globex_client.post(f"/ideas/{idea.pk}/vote/", {"next": board_url})
    assert resp.status_code == 302 and resp["Location"] == board_url
    # "/\\evil.example" and "//evil.example" are other sites to a browser.
    for evil in ["/\\evil.example/", "//evil.example/", "https://evil.example/"]:
        resp = acme_client.post(f"/ideas/{idea.pk}/vote/", {"next": evil})
        assert resp.status_code == 302 and resp["Location"] == f"/ideas/{idea.pk}/", evil
    services.status_change(idea=idea, to_status=IdeaStatus.DECLINED, note="Not for now", by=world.admin)
    resp = acme_client.post(f"/ideas/{idea.pk}/vote/", {}, follow=True)
    assert "This idea was declined; it takes no votes" in resp.content.decode()
    idea.refresh_from_db()
    assert idea.vote_count == Vote.objects.filter(idea=idea).count() == 2


def test_only_feedback_staff_change_status_and_merge(
    world: World, public_board: Board, acme_client: Client, admin_client: Client
) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Webhooks")
    dup = services.idea_create(board=public_board, author=world.acme_member, title="Web hooks please")
    assert acme_client.post(f"/ideas/{idea.pk}/status/", {"status": "planned"}).status_code == 403
    resp = admin_client.post(f"/ideas/{idea.pk}/status/", {"status": "planned", "note": "Next quarter"}, follow=True)
    assert "Status changed to Planned" in resp.content.decode()
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.PLANNED
    resp = admin_client.post(f"/ideas/{dup.pk}/merge/", {"target": dup.pk}, follow=True)
    assert "cannot be merged into itself" in resp.content.decode()
    resp = admin_client.post(f"/ideas/{dup.pk}/merge/", {"target": idea.pk}, follow=True)
    assert resp.redirect_chain[-1][0] == f"/ideas/{idea.pk}/"
    assert f"#{dup.pk} Web hooks please" in resp.content.decode()


def test_post_becomes_an_idea_from_the_thread_page(
    world: World, lounge: Space, public_board: Board, admin_client: Client, acme_client: Client
) -> None:
    thread = thread_create(
        space=lounge, author=world.acme_member, title="Exports", body="CSV export of reports, please"
    )
    post = opening_post(thread=thread)
    assert post is not None
    page = admin_client.get(_thread_url(thread)).content.decode()
    assert f"/ideas/from-post/{post.pk}/" in page
    form = admin_client.get(f"/ideas/from-post/{post.pk}/").content.decode()
    assert "Carla Acme" in form and "CSV export of reports" in form
    resp = admin_client.post(
        f"/ideas/from-post/{post.pk}/",
        {"action": "create", "board": public_board.slug, "title": "CSV export", "description": "From the lounge"},
    )
    idea = Idea.objects.get(title="CSV export")
    assert resp["Location"] == f"/ideas/{idea.pk}/" and idea.author_id == world.acme_member.pk
    # the thread page shows the idea to everyone who may see it
    assert "CSV export" in acme_client.get(_thread_url(thread)).content.decode()
    resp = admin_client.post(f"/ideas/from-post/{post.pk}/", {"action": "link", "idea": idea.pk})
    assert "already linked" in resp.content.decode()


def test_idea_page_shows_only_posts_the_viewer_can_read(
    world: World, acme_space: Space, public_board: Board, globex_client: Client, acme_client: Client
) -> None:
    thread = Thread.objects.create(space=acme_space, title="Acme internal", author=world.acme_member)
    post = Post.objects.create(thread=thread, author=world.acme_member, body="x", html="<p>x</p>", text="secret words")
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Shared idea")
    services.idea_link_post(idea=idea, post=post, by=world.admin_member)
    assert "Acme internal" not in globex_client.get(f"/ideas/{idea.pk}/").content.decode()
    assert "Acme internal" in acme_client.get(f"/ideas/{idea.pk}/").content.decode()


def test_demand_view_is_for_staff(world: World, public_board: Board, admin_client: Client, acme_client: Client) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Audit log export")
    services.vote_cast(idea=idea, member=world.acme_member)
    assert acme_client.get("/ideas/demand/").status_code == 404  # as the map and listening pages answer
    assert Client().get("/ideas/demand/").status_code == 302  # a visitor is sent to log in
    page = admin_client.get("/ideas/demand/").content.decode()
    assert "Audit log export" in page and "Acme" in page
    assert "No votes from these people" in admin_client.get("/ideas/demand/?role=partner").content.decode()


def test_changelog_feed_is_valid_rss_of_public_shipped_ideas(world: World, public_board: Board) -> None:
    import xml.etree.ElementTree as ET  # our own output

    idea = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    services.status_change(idea=idea, to_status=IdeaStatus.SHIPPED, note="In 4.2 & later", by=world.admin)
    resp = Client().get("/ideas/changelog/rss.xml")
    assert resp["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(resp.content)  # noqa: S314  # our own output
    items = root.findall("./channel/item")
    assert [i.findtext("title") for i in items] == ["Dark mode"]
    assert "In 4.2 & later" in (items[0].findtext("description") or "")
    assert "Dark mode" in Client().get("/ideas/changelog/").content.decode()


def _thread_url(thread: Thread) -> str:
    from django.urls import reverse

    return reverse("web:thread_detail", args=[thread.pk])


def test_the_thread_partial_costs_no_query_per_post(
    world: World, lounge: Space, public_board: Board, acme_client: Client
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from convenor.spaces.services import post_reply

    def thread_with(n: int) -> Thread:
        thread = thread_create(space=lounge, author=world.acme_member, title=f"Thread {n}", body="First post here")
        for i in range(n):
            reply = post_reply(thread=thread, author=world.globex_member, body=f"Reply number {i} about exports")
            idea = services.idea_create(board=public_board, author=world.acme_member, title=f"Idea {n}-{i}")
            services.idea_link_post(idea=idea, post=reply, by=world.admin_member)
        return thread

    small, large = thread_with(2), thread_with(12)
    # A first page, so that both measured pages read the session as a known one (its account
    # in the same query: web/sessions.py).
    assert acme_client.get("/notifications/").status_code == 200
    counts = []
    for thread in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            page = acme_client.get(_thread_url(thread)).content.decode()
        counts.append(len(ctx.captured_queries))
        assert page.count("/ideas/from-post/") == len(thread.posts.all())
    assert counts[0] == counts[1], counts
