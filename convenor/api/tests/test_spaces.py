"""Spaces, threads, posts, reactions, search and notifications through /api/v1/."""

from __future__ import annotations

from typing import Any

from convenor.core.testing import World
from convenor.spaces.models import Frame, Space, Visibility
from convenor.spaces.services import MAX_POST_CHARS, space_create, thread_create

from .conftest import BASE, Api


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


def start(api: Api, space: Space, title: str = "Backups?", body: str = "How do you back up?", **extra: Any) -> Any:
    resp = api.post(f"/spaces/{space.pk}/threads", {"title": title, "body": body, **extra})
    assert resp.status == 201, resp.body
    return resp.body


def reply(api: Api, thread_id: int, body: str, **extra: Any) -> Any:
    resp = api.post(f"/threads/{thread_id}/posts", {"body": body, **extra})
    assert resp.status == 201, resp.body
    return resp.body


def assert_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status == status, resp.body
    assert set(resp.body) == {"error"}
    assert set(resp.body["error"]) == {"code", "message", "fields"}
    assert resp.body["error"]["code"] == code
    fields: dict[str, Any] = resp.body["error"]["fields"]
    return fields


# --- spaces ------------------------------------------------------------------------------------


def test_space_list_filters_pages_and_hides_private_spaces(
    world: World, lounge: Space, acme_space: Space, admin_api: Api, acme_api: Api, globex_api: Api
) -> None:
    space_create(name="Offers", frame=Frame.COMMERCIAL, visibility=Visibility.PUBLIC, description="Deals")
    assert names(admin_api.get("/spaces").body) == ["Acme private space", "Offers", "Users lounge"]
    assert names(admin_api.get("/spaces", frame="commercial").body) == ["Offers"]
    assert names(admin_api.get("/spaces", q="deals").body) == ["Offers"]
    assert names(acme_api.get("/spaces").body) == ["Acme private space", "Offers", "Users lounge"]
    assert names(globex_api.get("/spaces").body) == ["Offers", "Users lounge"]

    first = admin_api.get("/spaces", page_size=2).body
    assert first["count"] == 3 and first["next"] == "http://testserver/api/v1/spaces?page_size=2&page=2"
    assert names(admin_api.get(first["next"]).body) == ["Users lounge"]

    listed = {s["name"]: s for s in acme_api.get("/spaces").body["items"]}
    assert listed["Acme private space"]["visibility"] == "account"
    assert listed["Acme private space"]["organization_id"] == world.acme.pk
    assert listed["Acme private space"]["membership"] == {"state": "invited", "role": "member"}
    assert listed["Users lounge"]["membership"] is None
    assert listed["Users lounge"]["frame"] == "community"


def test_bad_filter_values_are_422_naming_the_field(world: World, admin_api: Api, lounge: Space) -> None:
    assert "frame" in assert_error(admin_api.get("/spaces", frame="sales"), 422, "validation_error")
    fields = assert_error(admin_api.get(f"/spaces/{lounge.pk}/threads", order="oldest"), 422, "validation_error")
    assert "order" in fields


def test_space_detail_join_leave_and_follow(world: World, lounge: Space, acme_api: Api) -> None:
    detail = acme_api.get(f"/spaces/{lounge.pk}").body
    assert detail["frame"] == "community" and detail["visibility"] == "members"
    assert "No selling" in detail["charter"]
    assert detail["membership"] is None and detail["following"] is False and detail["can_moderate"] is False
    assert detail["thread_count"] == 0 and detail["post_count"] == 0

    joined = acme_api.post(f"/spaces/{lounge.pk}/join").body
    assert joined["membership"] == {"state": "active", "role": "member"}
    assert joined["following"] is True  # joining follows

    assert acme_api.delete(f"/spaces/{lounge.pk}/follow").body == {"following": False}
    assert acme_api.get(f"/spaces/{lounge.pk}").body["following"] is False
    assert acme_api.post(f"/spaces/{lounge.pk}/follow").body == {"following": True}

    left = acme_api.post(f"/spaces/{lounge.pk}/leave").body
    assert left["membership"]["state"] == "left" and left["following"] is False
    assert_error(acme_api.post(f"/spaces/{lounge.pk}/leave"), 409, "conflict")


def test_staff_create_spaces_with_a_required_frame(world: World, admin_api: Api, acme_api: Api) -> None:
    resp = admin_api.post("/spaces", {"name": "Help desk", "frame": "community", "visibility": "public"})
    assert resp.status == 201
    assert resp.body["slug"] == "help-desk" and resp.body["visibility"] == "public"
    assert resp.body["membership"] == {"state": "active", "role": "moderator"}
    assert "No selling" in resp.body["charter"]
    offers = admin_api.post("/spaces", {"name": "Offers", "frame": "commercial"}).body
    assert offers["charter"] == "" and offers["visibility"] == "members"

    assert "frame" in assert_error(admin_api.post("/spaces", {"name": "No frame"}), 422, "validation_error")
    fields = assert_error(
        admin_api.post("/spaces", {"name": "X", "frame": "community", "visibility": "account"}), 422, "validation_error"
    )
    assert "visibility" in fields
    assert "name" in assert_error(
        admin_api.post("/spaces", {"name": " ", "frame": "community"}), 422, "validation_error"
    )
    assert_error(acme_api.post("/spaces", {"name": "Mine", "frame": "community"}), 403, "permission_denied")


def test_private_space_for_an_organization_in_one_step(
    world: World, admin_api: Api, acme_api: Api, globex_api: Api
) -> None:
    resp = admin_api.post(f"/organizations/{world.acme.pk}/private-space")
    assert resp.status == 201
    space = resp.body
    assert space["visibility"] == "account" and space["organization_id"] == world.acme.pk
    assert space["frame"] == "community"
    # Acme's people are invited and told so; Globex's are not.
    assert acme_api.get(f"/spaces/{space['id']}").body["membership"]["state"] == "invited"
    assert [n["kind"] for n in acme_api.get("/notifications").body["items"]] == ["invited"]
    assert globex_api.get("/notifications").body["count"] == 0
    assert_error(globex_api.get(f"/spaces/{space['id']}"), 404, "not_found")

    again = admin_api.post(f"/organizations/{world.acme.pk}/private-space")
    assert "organization" in assert_error(again, 422, "validation_error")
    assert_error(acme_api.post(f"/organizations/{world.acme.pk}/private-space"), 403, "permission_denied")
    assert_error(admin_api.post("/organizations/99999/private-space"), 404, "not_found")


# --- threads and posts ---------------------------------------------------------------------------


def test_start_a_thread_and_reply(world: World, lounge: Space, acme_api: Api, globex_api: Api) -> None:
    thread = start(acme_api, lounge, body="How do you **back up**?", kind="question")
    assert thread["title"] == "Backups?" and thread["kind"] == "question"
    assert thread["space"] == {
        "id": lounge.pk,
        "name": "Users lounge",
        "slug": lounge.slug,
        "frame": "community",
        "visibility": "members",
    }
    assert thread["author"] == {"id": world.acme_member.pk, "name": "Carla Acme", "handle": "carla-acme"}
    opening = thread["opening_post"]
    assert opening["body"] == "How do you **back up**?"
    assert opening["html"] == "<p>How do you <strong>back up</strong>?</p>\n"
    assert opening["parent_id"] is None and opening["by_staff"] is False and opening["accepted"] is False
    assert opening["reactions"] == {} and opening["my_reactions"] == []
    assert thread["following"] is True  # authors follow their threads

    answer = reply(globex_api, thread["id"], "Nightly snapshots.", parent_id=opening["id"])
    assert answer["thread_id"] == thread["id"] and answer["parent_id"] == opening["id"]
    assert answer["author"]["name"] == "Gus Globex"

    posts = acme_api.get(f"/threads/{thread['id']}/posts").body
    assert [p["id"] for p in posts["items"]] == [opening["id"], answer["id"]]
    detail = acme_api.get(f"/threads/{thread['id']}").body
    assert detail["reply_count"] == 1
    assert acme_api.get(f"/spaces/{lounge.pk}").body["post_count"] == 2
    assert acme_api.get(f"/posts/{answer['id']}").body["body"] == "Nightly snapshots."


def test_staff_replies_carry_the_badge(world: World, lounge: Space, acme_api: Api, admin_api: Api) -> None:
    thread = start(acme_api, lounge)
    assert reply(admin_api, thread["id"], "We can help.")["by_staff"] is True
    assert admin_api.get(f"/threads/{thread['id']}").body["staff_reply_count"] == 1


def test_thread_list_orders_and_pages(world: World, lounge: Space, acme_api: Api, admin_api: Api) -> None:
    quiet = start(acme_api, lounge, title="Quiet")
    busy = start(acme_api, lounge, title="Busy")
    pinned = start(acme_api, lounge, title="Read me first")
    reply(acme_api, busy["id"], "Bump")
    loved = reply(acme_api, quiet["id"], "Great point")
    admin_api.post(f"/posts/{loved['id']}/reactions", {"kind": "like"})
    admin_api.patch(f"/threads/{pinned['id']}", {"pinned": True})

    def titles(**query: Any) -> list[str]:
        return [t["title"] for t in acme_api.get(f"/spaces/{lounge.pk}/threads", **query).body["items"]]

    assert titles() == ["Read me first", "Quiet", "Busy"]
    assert titles(order="top") == ["Read me first", "Quiet", "Busy"]
    assert titles(order="unanswered") == ["Read me first"]
    page = acme_api.get(f"/spaces/{lounge.pk}/threads", page_size=1, page=2).body
    assert page["count"] == 3 and [t["title"] for t in page["items"]] == ["Quiet"]


def test_a_mention_notifies_the_person_mentioned(world: World, lounge: Space, acme_api: Api, globex_api: Api) -> None:
    thread = start(acme_api, lounge)
    assert acme_api.get("/notifications/unread-count").body == {"unread": 0}
    post = reply(globex_api, thread["id"], "Ask @carla-acme, she knows.")
    assert '<a class="mention"' in post["html"]

    notes = acme_api.get("/notifications").body
    kinds = {n["kind"]: n for n in notes["items"]}
    assert set(kinds) == {"mention"}  # the reply to her thread is the same event: one notification
    note = kinds["mention"]
    assert note["title"] == "Gus Globex mentioned you in “Backups?”"
    assert note["actor_name"] == "Gus Globex" and note["read"] is False
    assert note["url"].startswith("http://testserver/") and note["url"].endswith(f"#post-{post['id']}")
    assert acme_api.get("/notifications/unread-count").body == {"unread": 1}

    assert acme_api.post("/notifications/read", {"ids": [note["id"]]}).body == {"marked": 1}
    assert acme_api.get("/notifications/unread-count").body == {"unread": 0}
    assert acme_api.get("/notifications").body["items"][0]["read"] is True


def test_mark_all_notifications_read_without_a_body(
    world: World, lounge: Space, acme_api: Api, globex_api: Api
) -> None:
    thread = start(acme_api, lounge)
    reply(globex_api, thread["id"], "One")
    reply(globex_api, thread["id"], "Two")
    assert acme_api.get("/notifications/unread-count").body == {"unread": 2}
    # No body at all, as `curl -X POST` sends it.
    resp = acme_api.client.generic("POST", f"{BASE}/notifications/read", data=b"", headers=acme_api.headers)
    assert resp.status_code == 200 and resp.json() == {"marked": 2}
    assert acme_api.get("/notifications/unread-count").body == {"unread": 0}
    # Someone else's ids are not theirs to mark.
    other = globex_api.get("/notifications").body["items"]
    assert acme_api.post("/notifications/read", {"ids": [n["id"] for n in other]}).body == {"marked": 0}


def test_reactions_toggle_and_are_counted(world: World, lounge: Space, acme_api: Api, globex_api: Api) -> None:
    post_id = start(acme_api, lounge)["opening_post"]["id"]
    assert globex_api.post(f"/posts/{post_id}/reactions", {"kind": "thanks"}).body == {"on": True, "count": 1}
    assert acme_api.post(f"/posts/{post_id}/reactions", {"kind": "thanks"}).body == {"on": True, "count": 2}
    seen = globex_api.get(f"/posts/{post_id}").body
    assert seen["reactions"] == {"thanks": 2} and seen["my_reactions"] == ["thanks"]
    assert globex_api.post(f"/posts/{post_id}/reactions", {"kind": "thanks"}).body == {"on": False, "count": 1}
    assert globex_api.get(f"/posts/{post_id}").body["my_reactions"] == []
    fields = assert_error(globex_api.post(f"/posts/{post_id}/reactions", {"kind": "love"}), 422, "validation_error")
    assert "kind" in fields


def test_the_asker_accepts_an_answer(world: World, lounge: Space, acme_api: Api, globex_api: Api) -> None:
    thread = start(acme_api, lounge, kind="question")
    answer = reply(globex_api, thread["id"], "Use snapshots.")
    assert_error(
        globex_api.post(f"/threads/{thread['id']}/accept", {"post_id": answer["id"]}), 403, "permission_denied"
    )
    fields = assert_error(
        acme_api.post(f"/threads/{thread['id']}/accept", {"post_id": thread["opening_post"]["id"]}),
        422,
        "validation_error",
    )
    assert "post_id" in fields

    accepted = acme_api.post(f"/threads/{thread['id']}/accept", {"post_id": answer["id"]})
    assert accepted.status == 200 and accepted.body["accepted_post_id"] == answer["id"]
    posts = acme_api.get(f"/threads/{thread['id']}/posts").body["items"]
    assert [p["accepted"] for p in posts] == [False, True]
    assert "accepted" in {n["kind"] for n in globex_api.get("/notifications").body["items"]}

    discussion = start(acme_api, lounge, title="Chat")
    other = reply(globex_api, discussion["id"], "Hi")
    assert_error(acme_api.post(f"/threads/{discussion['id']}/accept", {"post_id": other["id"]}), 409, "conflict")


def test_moderators_pin_and_lock_and_the_author_may_ask_for_staff(
    world: World, lounge: Space, acme_api: Api, admin_api: Api, globex_api: Api
) -> None:
    thread = start(acme_api, lounge)
    assert acme_api.get(f"/threads/{thread['id']}").body["can_moderate"] is False
    assert_error(acme_api.patch(f"/threads/{thread['id']}", {"pinned": True}), 403, "permission_denied")
    assert acme_api.patch(f"/threads/{thread['id']}", {"needs_staff": True}).body["needs_staff"] is True
    assert_error(globex_api.patch(f"/threads/{thread['id']}", {"needs_staff": False}), 403, "permission_denied")

    done = admin_api.patch(f"/threads/{thread['id']}", {"pinned": True, "locked": True}).body
    assert done["pinned"] is True and done["locked"] is True and done["needs_staff"] is True
    assert done["can_moderate"] is True


def test_follow_a_thread(world: World, lounge: Space, acme_api: Api, globex_api: Api) -> None:
    thread = start(acme_api, lounge)
    assert globex_api.post(f"/threads/{thread['id']}/follow").body == {"following": True}
    assert globex_api.get(f"/threads/{thread['id']}").body["following"] is True
    reply(acme_api, thread["id"], "Anyone?")
    assert [n["kind"] for n in globex_api.get("/notifications").body["items"]] == ["reply"]
    assert globex_api.delete(f"/threads/{thread['id']}/follow").body == {"following": False}


def test_edit_keeps_revisions_and_only_the_author_or_a_moderator_may(
    world: World, lounge: Space, acme_api: Api, globex_api: Api, admin_api: Api
) -> None:
    post_id = start(acme_api, lounge, body="First draft")["opening_post"]["id"]
    edited = acme_api.patch(f"/posts/{post_id}", {"body": "Second draft"}).body
    assert edited["body"] == "Second draft" and edited["edited_at"] is not None
    # Someone else's post is visible, so refusing to change it is 403, not 404.
    assert_error(globex_api.patch(f"/posts/{post_id}", {"body": "Mine now"}), 403, "permission_denied")
    assert admin_api.patch(f"/posts/{post_id}", {"body": "Tidied by a moderator"}).status == 200

    revisions = globex_api.get(f"/posts/{post_id}/revisions").body
    assert revisions["count"] == 2
    assert [r["body"] for r in revisions["items"]] == ["Second draft", "First draft"]
    assert revisions["items"][0]["edited_by"]["name"] == "Ada Admin"


# --- bad input -----------------------------------------------------------------------------------


def test_empty_oversize_and_unknown_mentions_are_422_on_body(
    world: World, lounge: Space, acme_api: Api, admin_api: Api
) -> None:
    thread = start(acme_api, lounge)
    url = f"/threads/{thread['id']}/posts"
    assert "body" in assert_error(acme_api.post(url, {"body": "   "}), 422, "validation_error")
    fields = assert_error(acme_api.post(url, {"body": "x" * (MAX_POST_CHARS + 1)}), 422, "validation_error")
    assert "body" in fields
    fields = assert_error(acme_api.post(url, {"body": "Hi @nobody-here"}), 422, "validation_error")
    assert fields["body"] == ["unknown @nobody-here"]
    assert "body" in assert_error(acme_api.post(url, {}), 422, "validation_error")
    fields = assert_error(
        acme_api.post(f"/spaces/{lounge.pk}/threads", {"title": "", "body": "text"}), 422, "validation_error"
    )
    assert "title" in fields
    # Nothing was stored.
    assert admin_api.get(f"/threads/{thread['id']}/posts").body["count"] == 1
    assert admin_api.get(f"/spaces/{lounge.pk}").body["thread_count"] == 1


def test_replying_to_a_post_of_another_thread_is_422_on_parent_id(world: World, lounge: Space, acme_api: Api) -> None:
    one = start(acme_api, lounge, title="One")
    two = start(acme_api, lounge, title="Two")
    resp = acme_api.post(f"/threads/{one['id']}/posts", {"body": "Hi", "parent_id": two["opening_post"]["id"]})
    assert "parent_id" in assert_error(resp, 422, "validation_error")


def test_no_script_survives(world: World, lounge: Space, acme_api: Api) -> None:
    body = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    html = start(acme_api, lounge, body=body)["opening_post"]["html"]
    # What remains is escaped text: no tag, no live link, no handler.
    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "&lt;script&gt;" in html


def test_a_locked_thread_is_409_and_a_left_space_is_403(
    world: World, lounge: Space, acme_api: Api, admin_api: Api, globex_api: Api
) -> None:
    thread = start(acme_api, lounge)
    admin_api.patch(f"/threads/{thread['id']}", {"locked": True})
    assert_error(globex_api.post(f"/threads/{thread['id']}/posts", {"body": "Too late"}), 409, "conflict")

    other = start(acme_api, lounge, title="Open")
    globex_api.post(f"/spaces/{lounge.pk}/join")
    globex_api.post(f"/spaces/{lounge.pk}/leave")
    assert_error(globex_api.post(f"/threads/{other['id']}/posts", {"body": "Hello"}), 403, "permission_denied")
    assert_error(globex_api.post(f"/spaces/{lounge.pk}/threads", {"title": "T", "body": "B"}), 403, "permission_denied")
    globex_api.post(f"/spaces/{lounge.pk}/join")
    assert globex_api.post(f"/threads/{other['id']}/posts", {"body": "Back"}).status == 201


# --- the private space of a competitor -----------------------------------------------------------


def test_globex_never_sees_anything_of_acmes_private_space(
    world: World, acme_space: Space, lounge: Space, acme_api: Api, globex_api: Api, admin_api: Api
) -> None:
    thread = start(acme_api, acme_space, title="Acme renewal plans", body="Our zanzibar budget for renewal")
    answer = reply(admin_api, thread["id"], "Zanzibar pricing attached, @carla-acme")
    tid, pid, sid = thread["id"], answer["id"], acme_space.pk

    for method, path, body in [
        ("GET", f"/spaces/{sid}", None),
        ("POST", f"/spaces/{sid}/join", {}),
        ("POST", f"/spaces/{sid}/leave", {}),
        ("POST", f"/spaces/{sid}/follow", {}),
        ("DELETE", f"/spaces/{sid}/follow", None),
        ("GET", f"/spaces/{sid}/threads", None),
        ("POST", f"/spaces/{sid}/threads", {"title": "Hi", "body": "Hi"}),
        ("GET", f"/threads/{tid}", None),
        ("PATCH", f"/threads/{tid}", {"needs_staff": True}),
        ("GET", f"/threads/{tid}/posts", None),
        ("POST", f"/threads/{tid}/posts", {"body": "Hi"}),
        ("POST", f"/threads/{tid}/accept", {"post_id": pid}),
        ("POST", f"/threads/{tid}/follow", {}),
        ("GET", f"/posts/{pid}", None),
        ("PATCH", f"/posts/{pid}", {"body": "Hi"}),
        ("GET", f"/posts/{pid}/revisions", None),
        ("POST", f"/posts/{pid}/reactions", {"kind": "like"}),
    ]:
        resp = globex_api.call(method, path, body)
        assert resp.status == 404, (method, path, resp.body)
        assert resp.body["error"]["code"] == "not_found"
        assert "Acme" not in resp.body["error"]["message"]

    # A reply in a thread Globex can see cannot hang off Acme's post either.
    public = start(acme_api, lounge)
    assert_error(globex_api.post(f"/threads/{public['id']}/posts", {"body": "x", "parent_id": pid}), 404, "not_found")

    assert "Acme private space" not in names(globex_api.get("/spaces").body)
    assert globex_api.get("/search", q="zanzibar").body["count"] == 0
    assert globex_api.get("/search", q="zanzibar", space=sid).body["items"] == []
    # Acme's people and staff find it.
    assert acme_api.get("/search", q="zanzibar").body["count"] == 2
    assert admin_api.get("/search", q="zanzibar", space=sid).body["count"] == 2


def test_mentioning_a_competitor_in_a_private_space_is_refused(
    world: World, acme_space: Space, acme_api: Api, globex_api: Api
) -> None:
    thread = start(acme_api, acme_space)
    fields = assert_error(
        acme_api.post(f"/threads/{thread['id']}/posts", {"body": "cc @gus-globex"}), 422, "validation_error"
    )
    assert fields["body"] == ["@gus-globex cannot read this space"]
    assert globex_api.get("/notifications").body["count"] == 0


def test_notifications_about_a_space_one_lost_are_hidden(
    world: World, acme_space: Space, acme_api: Api, admin_api: Api
) -> None:
    thread = start(acme_api, acme_space)
    reply(admin_api, thread["id"], "Noted, @carla-acme")
    assert acme_api.get("/notifications/unread-count").body["unread"] >= 1
    # Carla leaves Acme: she loses the space and everything she was told about it.
    from convenor.people.models import Affiliation
    from convenor.people.services import affiliation_end

    affiliation_end(affiliation=Affiliation.objects.get(member=world.acme_member, organization=world.acme))
    assert acme_api.get("/notifications").body["count"] == 0
    assert acme_api.get("/notifications/unread-count").body == {"unread": 0}
    assert_error(acme_api.get(f"/threads/{thread['id']}"), 404, "not_found")


# --- search ----------------------------------------------------------------------------------------


def test_search_ranks_highlights_filters_and_pages(world: World, lounge: Space, acme_api: Api, globex_api: Api) -> None:
    first = start(acme_api, lounge, title="Snapshots", body="We take snapshots of the warehouse nightly")
    reply(globex_api, first["id"], "Snapshots are fine, but test your restores")
    start(globex_api, lounge, title="Restores", body="How long does a restore take?")

    body = acme_api.get("/search", q="snapshots").body
    assert body["count"] == 2 and set(body) == {"items", "count", "page", "page_size", "next", "previous"}
    hit = body["items"][0]
    assert set(hit) == {
        "post_id",
        "thread_id",
        "thread_title",
        "space_id",
        "space_name",
        "space_slug",
        "author_id",
        "author_name",
        "created_at",
        "snippet_html",
        "rank",
    }
    assert hit["thread_id"] == first["id"] and hit["space_name"] == "Users lounge"
    assert "<mark>" in hit["snippet_html"]
    assert hit["created_at"].endswith("Z") or "+00:00" in hit["created_at"]

    by_gus = acme_api.get("/search", q="snapshots", author=world.globex_member.pk).body
    assert [h["author_name"] for h in by_gus["items"]] == ["Gus Globex"]
    page = acme_api.get("/search", q="snapshots", page_size=1).body
    assert len(page["items"]) == 1 and page["next"] == "http://testserver/api/v1/search?q=snapshots&page_size=1&page=2"
    assert acme_api.get("/search", q="restor").body["count"] == 2  # the last word is a prefix
    assert acme_api.get("/search", q='" OR NEAR(').body["count"] == 0  # operators are just words
    assert "q" in assert_error(acme_api.get("/search"), 422, "validation_error")


def test_lists_of_posts_do_not_query_per_post(
    world: World, lounge: Space, acme_api: Api, django_assert_max_num_queries: Any
) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Busy", body="Start")
    for i in range(3):
        reply(acme_api, thread.pk, f"Reply {i}")
    with django_assert_max_num_queries(12):
        few = acme_api.get(f"/threads/{thread.pk}/posts")
    for i in range(10):
        reply(acme_api, thread.pk, f"More {i}")
    with django_assert_max_num_queries(12):
        many = acme_api.get(f"/threads/{thread.pk}/posts")
    assert few.body["count"] == 4 and many.body["count"] == 14
