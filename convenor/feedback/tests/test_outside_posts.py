"""Outside posts (reviews, blog posts, chat imported by listening) becoming ideas or linked to
them: the services, the pages (staff only) and the API, with who may see what."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from convenor.activity.models import Activity, Verb
from convenor.api.tests.conftest import api_as
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.testing import World
from convenor.feedback import selectors, services
from convenor.feedback.models import Board, Idea, IdeaFollow, IdeaSource, SourceKind
from convenor.listening.models import OutsidePost
from convenor.listening.selectors import post_activity

Posts = dict[str, OutsidePost]


# --- services -------------------------------------------------------------------------------


def test_an_outside_post_becomes_an_idea_crediting_its_author(
    world: World, public_board: Board, outside_posts: Posts
) -> None:
    review = outside_posts["rv-1"]
    assert review.author.observed and review.author.name == "Dana Li"
    activity = post_activity(review)
    assert (activity.verb, activity.object_kind, activity.object_id) == (Verb.REVIEWED, "outside_post", review.pk)
    idea = services.idea_from_activity(
        activity=activity, board=public_board, by=world.admin_member, title="Export reports to CSV"
    )
    assert idea.author_id == review.author_id and idea.created_by_id == world.admin_member.pk
    source = IdeaSource.objects.get(idea=idea)
    assert (source.kind, source.activity_id, source.author_id) == (SourceKind.ACTIVITY, activity.pk, review.author_id)
    assert source.conduit == review.source.key and source.linked_by_id == world.admin_member.pk
    assert source.excerpt.startswith("Good engine, but we need to export reports to CSV")
    assert set(IdeaFollow.objects.filter(idea=idea).values_list("member_id", flat=True)) == {
        review.author_id,
        world.admin_member.pk,
    }
    # Staff see where it came from, with the outside post behind it; members see no conduit.
    staff_view = selectors.idea_sources(idea=idea, viewer=world.admin)
    assert selectors.outside_origins(staff_view) == {source.pk: review}
    assert selectors.idea_sources(idea=idea, viewer=world.acme_user) == []
    assert selectors.ideas_for_outside_posts(viewer=world.admin, post_ids=[review.pk, 999]) == {review.pk: [idea]}


def test_linking_the_same_outside_post_twice_is_refused(
    world: World, public_board: Board, outside_posts: Posts
) -> None:
    activity = post_activity(outside_posts["rv-2"])
    idea = services.idea_create(board=public_board, author=world.globex_member, title="Dark mode")
    services.idea_link_activity(idea=idea, activity=activity, by=world.admin_member)
    with pytest.raises(ApplicationError) as err:
        services.idea_link_activity(idea=idea, activity=activity, by=world.admin_member)
    assert err.value.code == ErrorCode.DUPLICATE
    assert err.value.message == "This outside post is already linked to “Dark mode”"
    # A merged idea passes the link on, so linking through it is a duplicate too.
    dup = services.idea_create(board=public_board, author=world.acme_member, title="Night theme")
    services.idea_merge(source=dup, target=idea, by=world.admin)
    dup.refresh_from_db()
    with pytest.raises(ApplicationError) as err:
        services.idea_link_activity(idea=dup, activity=activity)
    assert err.value.code == ErrorCode.DUPLICATE
    assert IdeaSource.objects.filter(activity=activity).count() == 1
    # Carla, a member matched by her email, follows it and hears when it changes.
    assert IdeaFollow.objects.filter(idea=idea, member=world.acme_member).exists()


def test_bad_input_writes_nothing(world: World, public_board: Board, outside_posts: Posts) -> None:
    activity = post_activity(outside_posts["rv-3"])
    with pytest.raises(ApplicationError) as err:
        services.idea_from_activity(activity=activity, board=public_board, by=world.admin_member, title="  ")
    assert err.value.code == ErrorCode.VALIDATION and err.value.fields == {"title": ["This field is required"]}
    native = services.idea_create(board=public_board, author=world.acme_member, title="Native idea")
    own = Activity.objects.get(verb=Verb.SUBMITTED_IDEA, object_id=native.pk)
    with pytest.raises(ApplicationError) as err:
        services.idea_from_activity(activity=own, board=public_board, by=world.admin_member, title="Copy")
    assert err.value.code == ErrorCode.CONFLICT and "link the post itself" in err.value.message
    with pytest.raises(ApplicationError):
        services.idea_link_activity(idea=native, activity=own)
    assert list(Idea.objects.values_list("title", flat=True)) == ["Native idea"]
    assert not IdeaSource.objects.exists()


def test_demand_names_the_outside_sources(world: World, public_board: Board, outside_posts: Posts) -> None:
    idea = services.idea_from_activity(
        activity=post_activity(outside_posts["rv-1"]), board=public_board, by=world.admin_member, title="CSV export"
    )
    services.vote_cast(idea=idea, member=world.globex_member)
    rows = selectors.demand(viewer=world.admin, filters=selectors.DemandFilters())
    assert [(r.idea.pk, r.conduits) for r in rows] == [(idea.pk, ["G2 reviews"])]


# --- pages ----------------------------------------------------------------------------------


def test_outside_post_pages_are_for_staff_only(
    world: World, public_board: Board, outside_posts: Posts, acme_client: Client
) -> None:
    review = outside_posts["rv-2"]  # Carla's own review: she still may not use the staff pages
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    for url in ("/listening/posts/", f"/ideas/from-outside-post/{review.pk}/"):
        assert acme_client.get(url).status_code == 404, url
        resp = Client().get(url)
        assert resp.status_code == 302 and "/login/" in resp["Location"], url
    form = {"action": "create", "board": public_board.slug, "title": "Sneaky"}
    assert acme_client.post(f"/ideas/from-outside-post/{review.pk}/", form).status_code == 404
    link = {"action": "link", "idea": idea.pk}
    assert acme_client.post(f"/ideas/from-outside-post/{review.pk}/", link).status_code == 404
    assert not IdeaSource.objects.exists() and Idea.objects.count() == 1


def test_the_list_filters_searches_and_says_when_nothing_is_there(
    world: World, admin_client: Client, outside_posts: Posts, tmp_path: object
) -> None:
    page = admin_client.get("/listening/posts/").content.decode()
    assert "Dana Li" in page and "Omar Haddad" in page and "3 posts" in page
    assert "/ideas/from-outside-post/" in page and "https://reviews.example.com/r/1" in page
    found = admin_client.get("/listening/posts/?q=dark+mode").content.decode()
    assert "Dark mode please" in found and "Needs CSV export" not in found
    source = outside_posts["rv-1"].source
    assert "3 posts" in admin_client.get(f"/listening/posts/?source={source.pk}&conduit=reviews").content.decode()
    none = admin_client.get("/listening/posts/?conduit=chat").content.decode()
    assert "No posts match" in none and "Clear the filters" in none
    detail = admin_client.get(f"/listening/sources/{source.pk}/").content.decode()
    assert "Latest posts" in detail and f"/listening/posts/?source={source.pk}" in detail
    assert "All 3 posts from G2 reviews" in detail


def test_the_list_paginates(world: World, admin_client: Client, tmp_path: object) -> None:
    from pathlib import Path

    from convenor.listening.services import import_file

    assert "Nothing imported yet" in admin_client.get("/listening/posts/").content.decode()
    rows = ["id,author,email,rating,title,text,date,url,site"]
    rows += [f"p-{i},Person {i},,4,Review {i:02d},Text {i},2026-01-{i + 1:02d},,G2" for i in range(30)]
    path = Path(str(tmp_path)) / "many.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_file(importer="reviews", path=path)
    with CaptureQueriesContext(connection) as queries:
        first = admin_client.get("/listening/posts/").content.decode()
    assert "Page 1 of 2" in first and "Review 29" in first and "Review 00" not in first
    # A page of 25 posts costs a fixed handful of queries, not one (or more) per post.
    assert len(queries) < 15, [q["sql"] for q in queries]
    assert "Review 00" in admin_client.get("/listening/posts/?page=2").content.decode()


def test_an_outside_post_becomes_an_idea_and_the_idea_shows_where_it_came_from(
    world: World, public_board: Board, outside_posts: Posts, admin_client: Client, acme_client: Client
) -> None:
    review = outside_posts["rv-1"]
    url = f"/ideas/from-outside-post/{review.pk}/"
    form = admin_client.get(url).content.decode()
    assert 'value="Needs CSV export"' in form and "Dana Li" in form and "an observed person" in form
    assert "https://reviews.example.com/r/1" in form
    bad = admin_client.post(url, {"action": "create", "board": public_board.slug, "title": ""})
    assert bad.status_code == 200 and "This field is required" in bad.content.decode()
    resp = admin_client.post(
        url, {"action": "create", "board": public_board.slug, "title": "Export to CSV", "description": "> quote"}
    )
    idea = Idea.objects.get(title="Export to CSV")
    assert resp.status_code == 302 and resp["Location"] == f"/ideas/{idea.pk}/"
    assert idea.author_id == review.author_id
    page = admin_client.get(f"/ideas/{idea.pk}/").content.decode()
    assert "suggested by <strong>Dana Li</strong>" in page
    for shown in ("Where it came from", "G2 reviews", "Review site", "https://reviews.example.com/r/1", "Original"):
        assert shown in page, shown
    assert "we need to export reports to CSV" in page
    # Members see the idea and who is credited, but not the conduit it came from.
    member_view = acme_client.get(f"/ideas/{idea.pk}/").content.decode()
    assert "Dana Li" in member_view and "reviews.example.com" not in member_view
    # The list shows the link; linking again says so instead of failing.
    assert f"#{idea.pk} Export to CSV" in admin_client.get("/listening/posts/").content.decode()
    again = admin_client.post(url, {"action": "link", "idea": idea.pk})
    assert again.status_code == 200 and "already linked to “Export to CSV”" in again.content.decode()
    other = services.idea_create(board=public_board, author=world.globex_member, title="Finance exports")
    linked = admin_client.post(url, {"action": "link", "idea": other.pk}, follow=True)
    assert "The review is linked to “Finance exports”; Dana Li is credited." in linked.content.decode()
    assert IdeaSource.objects.filter(activity__object_id=review.pk).count() == 2


# --- API ------------------------------------------------------------------------------------


def test_api_turns_and_links_outside_posts_for_staff_only(
    world: World, public_board: Board, outside_posts: Posts
) -> None:
    admin, acme = api_as(world.admin), api_as(world.acme_user)
    review = outside_posts["rv-1"]
    listed = admin.get("/listening/posts", q="CSV").body
    assert listed["count"] == 1 and listed["items"][0]["id"] == review.pk and listed["items"][0]["ideas"] == []
    assert listed["items"][0]["author"] == {"id": review.author_id, "name": "Dana Li", "observed": True}
    made = admin.post("/ideas", {"board_id": public_board.pk, "title": "CSV export", "outside_post_id": review.pk})
    assert made.status == 201 and made.body["author"]["name"] == "Dana Li"
    src = made.body["sources"][0]
    assert src["kind"] == "activity" and src["conduit"] == review.source.key
    assert src["outside_post"]["url"] == "https://reviews.example.com/r/1"
    assert src["outside_post"]["source_name"] == "G2 reviews" and src["outside_post"]["conduit"] == "reviews"
    idea_id = made.body["id"]
    dup = admin.post(f"/ideas/{idea_id}/sources", {"outside_post_id": review.pk})
    assert dup.status == 409 and dup.body["error"]["code"] == "duplicate"
    assert "already linked" in dup.body["error"]["message"]
    other = admin.post(f"/ideas/{idea_id}/sources", {"outside_post_id": outside_posts["rv-3"].pk})
    assert other.status == 201 and other.body["outside_post"]["id"] == outside_posts["rv-3"].pk
    assert admin.get(f"/listening/posts/{review.pk}").body["ideas"] == [
        {"id": idea_id, "title": "CSV export", "status": "new"}
    ]
    # Anyone but staff: 404, whatever they can otherwise see, and nothing is written.
    assert acme.get("/listening/posts").status == 404
    assert acme.get(f"/listening/posts/{review.pk}").status == 404
    resp = acme.post("/ideas", {"board_id": public_board.pk, "title": "Mine", "outside_post_id": review.pk})
    assert resp.status == 404 and resp.body["error"]["code"] == "not_found"
    assert acme.post(f"/ideas/{idea_id}/sources", {"outside_post_id": outside_posts["rv-2"].pk}).status == 404
    assert admin.get("/listening/posts/999999").status == 404
    # One of the two, not both and not neither.
    both = admin.post(f"/ideas/{idea_id}/sources", {"outside_post_id": review.pk, "post_id": 1})
    assert both.status == 422 and both.body["error"]["code"] == "validation_error"
    assert admin.post(f"/ideas/{idea_id}/sources", {}).status == 422
    assert Idea.objects.count() == 1 and IdeaSource.objects.count() == 2
