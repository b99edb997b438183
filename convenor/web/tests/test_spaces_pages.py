"""The pages for spaces and conversations, through Django's test client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from convenor.core.models import DigestFrequency, Notification, NotificationPrefs
from convenor.core.notify import send_immediate_emails, unsubscribe_token
from convenor.core.testing import World
from convenor.spaces.models import (
    Follow,
    Frame,
    MembershipState,
    Post,
    PostRevision,
    Reaction,
    Space,
    SpaceMembership,
    SpaceRole,
    Thread,
    Visibility,
)
from convenor.spaces.services import (
    MAX_POST_CHARS,
    post_reply,
    space_create,
    space_join,
    space_leave,
    thread_create,
    thread_moderate,
)

NOINDEX = '<meta name="robots" content="noindex">'


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined,no-any-return]  # test client responses carry content


@pytest.fixture
def square(world: World) -> Space:
    """A public community space: anyone can read it and search engines may index it."""
    return space_create(
        name="Town square", frame=Frame.COMMUNITY, visibility=Visibility.PUBLIC, creator=world.admin_member
    )


@pytest.fixture
def offers(world: World) -> Space:
    return space_create(name="Offers", frame=Frame.COMMERCIAL, visibility=Visibility.MEMBERS)


# --- reading: who sees what -----------------------------------------------------------------


def test_anonymous_reads_public_spaces_and_is_asked_to_log_in_for_the_rest(
    client: Client, world: World, square: Space, lounge: Space
) -> None:
    public = thread_create(space=square, author=world.acme_member, title="Hello world", body="First **post**")
    members_only = thread_create(space=lounge, author=world.acme_member, title="Members talk", body="Hi")

    listing = _text(client.get(reverse("web:space_list")))
    assert "Town square" in listing and "Users lounge" not in listing
    assert NOINDEX not in listing

    page = client.get(reverse("web:space_detail", args=[square.slug]))
    assert page.status_code == 200
    body = _text(page)
    assert "Community space" in body and "no selling" in body and "Hello world" in body
    assert NOINDEX not in body
    thread_page = _text(client.get(reverse("web:thread_detail", args=[public.pk])))
    assert "<strong>post</strong>" in thread_page and "Log in</a> to reply" in thread_page
    assert NOINDEX not in thread_page

    for url in (
        reverse("web:space_detail", args=[lounge.slug]),
        reverse("web:thread_detail", args=[members_only.pk]),
        reverse("web:space_detail", args=["no-such-space"]),
        reverse("web:thread_create", args=[square.slug]),
        reverse("web:notifications"),
        reverse("web:queues"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("web:login")), url
    # Search is open to visitors, over public spaces only (test_page_cache.py checks what it finds).
    assert client.get(reverse("web:search"), {"q": "hello"}).status_code == 200


def test_globex_never_sees_acme_private_space(
    globex_client: Client, acme_client: Client, world: World, acme_space: Space, lounge: Space
) -> None:
    thread = thread_create(
        space=acme_space, author=world.acme_member, title="Acme renewal pricing", body="Our secret zeppelin plan"
    )
    post = thread.posts.get()
    thread_create(space=lounge, author=world.acme_member, title="Zeppelin tips", body="zeppelin for everyone")

    for url in (
        reverse("web:space_detail", args=[acme_space.slug]),
        reverse("web:thread_detail", args=[thread.pk]),
        reverse("web:thread_create", args=[acme_space.slug]),
        reverse("web:post_link", args=[post.pk]),
        reverse("web:post_history", args=[post.pk]),
    ):
        assert globex_client.get(url).status_code == 404, url
    assert globex_client.post(reverse("web:post_react", args=[post.pk]), {"kind": "like"}).status_code == 404
    assert globex_client.post(reverse("web:thread_detail", args=[thread.pk]), {"body": "hi"}).status_code == 404
    assert Post.objects.filter(thread=thread).count() == 1

    assert "Acme private space" not in _text(globex_client.get(reverse("web:space_list")))
    found = _text(globex_client.get(reverse("web:search"), {"q": "zeppelin"}))
    assert "Zeppelin tips" in found and "Acme renewal" not in found and "secret" not in found
    space_options = _text(globex_client.get(reverse("web:search")))
    assert "Acme private space" not in space_options

    # Acme's own people see it, marked as not for search engines.
    page = acme_client.get(reverse("web:space_detail", args=[acme_space.slug]))
    assert page.status_code == 200 and NOINDEX in _text(page)
    assert "Acme renewal pricing" in _text(page)
    assert "Acme renewal" in _text(acme_client.get(reverse("web:search"), {"q": "zeppelin"}))


def test_spaces_list_shows_frames_counts_and_filters_by_frame(
    acme_client: Client, world: World, lounge: Space, offers: Space
) -> None:
    thread_create(space=lounge, author=world.acme_member, title="T", body="B")
    page = _text(acme_client.get(reverse("web:space_list")))
    assert "Users lounge" in page and "Offers" in page
    assert "Commercial" in page and "1 thread" in page
    assert "New space" not in page  # customers do not create spaces
    only = _text(acme_client.get(reverse("web:space_list"), {"frame": "commercial"}))
    assert "Offers" in only and "Users lounge" not in only


def test_staff_create_spaces_and_the_frame_must_be_chosen(
    admin_client: Client, acme_client: Client, world: World
) -> None:
    page = _text(admin_client.get(reverse("web:space_list")))
    assert "New space" in page and "checked" not in page  # no frame is chosen for you
    url = reverse("web:space_list")
    missing = admin_client.post(url, {"name": "Help", "visibility": "public"})
    assert missing.status_code == 200
    assert "This field is required" in _text(missing)
    assert not Space.objects.filter(name="Help").exists()

    created = admin_client.post(
        url, {"name": "Help desk", "frame": "community", "visibility": "public", "description": "Ask"}
    )
    space = Space.objects.get(name="Help desk")
    assert created.status_code == 302 and created["Location"] == reverse("web:space_detail", args=[space.slug])
    assert space.frame == Frame.COMMUNITY and space.visibility == Visibility.PUBLIC and space.charter

    # Account spaces come from an organisation's page, not this form.
    wrong = admin_client.post(url, {"name": "Sneaky", "frame": "community", "visibility": "account"})
    assert wrong.status_code == 200 and not Space.objects.filter(name="Sneaky").exists()
    assert acme_client.post(url, {"name": "Mine", "frame": "community", "visibility": "public"}).status_code == 403


# --- the space page -------------------------------------------------------------------------


def test_space_page_tabs_pagination_pinned_first_and_empty_state(
    acme_client: Client, world: World, lounge: Space, offers: Space
) -> None:
    url = reverse("web:space_detail", args=[lounge.slug])
    empty = _text(acme_client.get(url))
    assert "No threads yet" in empty and "see the" in empty and "charter" in empty
    commercial = _text(acme_client.get(reverse("web:space_detail", args=[offers.slug])))
    assert "Commercial space</span> — offers and sales conversations welcome" in commercial

    threads = [
        thread_create(space=lounge, author=world.acme_member, title=f"Thread {i:02}", body="text") for i in range(31)
    ]
    thread_moderate(thread=threads[0], pinned=True)
    post_reply(thread=threads[1], author=world.globex_member, body="an answer")
    first = _text(acme_client.get(url))
    assert first.index("Thread 00") < first.index("Thread 30")  # pinned first
    assert "Page 1 of 2" in first
    assert "Thread" in _text(acme_client.get(url, {"page": 2}))
    unanswered = _text(acme_client.get(url, {"tab": "unanswered"}))
    assert "Thread 01" not in unanswered
    assert acme_client.get(url, {"tab": "nonsense"}).status_code == 200


def test_join_leave_follow_and_accept_an_invitation(
    acme_client: Client, world: World, lounge: Space, acme_space: Space
) -> None:
    lounge_url = reverse("web:space_detail", args=[lounge.slug])
    assert "Join" in _text(acme_client.get(lounge_url))
    acme_client.post(reverse("web:space_join", args=[lounge.slug]))
    membership = SpaceMembership.objects.get(space=lounge, member=world.acme_member)
    assert membership.state == MembershipState.ACTIVE
    assert "Leave" in _text(acme_client.get(lounge_url))
    acme_client.post(reverse("web:space_follow", args=[lounge.slug]), {"on": "0"})
    assert not Follow.objects.filter(member=world.acme_member, space=lounge).exists()
    acme_client.post(reverse("web:space_follow", args=[lounge.slug]), {"on": "1"})
    assert Follow.objects.filter(member=world.acme_member, space=lounge).exists()
    acme_client.post(reverse("web:space_leave", args=[lounge.slug]))
    membership.refresh_from_db()
    assert membership.state == MembershipState.LEFT
    assert "You left this space" in _text(acme_client.get(lounge_url))

    # Carla was invited to Acme's private space when it was made.
    page = _text(acme_client.get(reverse("web:space_detail", args=[acme_space.slug])))
    assert "Accept invitation" in page
    acme_client.post(reverse("web:space_join", args=[acme_space.slug]))
    assert SpaceMembership.objects.get(space=acme_space, member=world.acme_member).state == MembershipState.ACTIVE


def test_moderators_invite_and_manage_members(
    admin_client: Client, acme_client: Client, world: World, lounge: Space, acme_space: Space
) -> None:
    url = reverse("web:space_detail", args=[lounge.slug])
    assert "Make moderator" in _text(admin_client.get(url)) or "Members" in _text(admin_client.get(url))
    assert "Send invitation" not in _text(acme_client.get(url))

    invite = reverse("web:space_invite", args=[lounge.slug])
    admin_client.post(invite, {"who": f"@{world.acme_member.handle}"})
    assert SpaceMembership.objects.get(space=lounge, member=world.acme_member).state == MembershipState.INVITED
    admin_client.post(invite, {"who": "gus@globex.example"})
    assert SpaceMembership.objects.get(space=lounge, member=world.globex_member).state == MembershipState.INVITED
    nobody = admin_client.post(invite, {"who": "@nobody-at-all"}, follow=True)
    assert "Nobody you can see" in _text(nobody)
    # A competitor cannot be invited into Acme's private space: the invitation would name it.
    refused = admin_client.post(
        reverse("web:space_invite", args=[acme_space.slug]), {"who": "gus@globex.example"}, follow=True
    )
    assert "not one of this organisation" in _text(refused)
    assert not SpaceMembership.objects.filter(space=acme_space, member=world.globex_member).exists()
    assert not Notification.objects.filter(recipient=world.globex_user, place_id=acme_space.pk).exists()
    assert acme_client.post(invite, {"who": "gus@globex.example"}).status_code == 403

    role = reverse("web:space_member_role", args=[lounge.slug, world.acme_member.pk])
    admin_client.post(role, {"role": "moderator"})
    assert SpaceMembership.objects.get(space=lounge, member=world.acme_member).role == SpaceRole.MODERATOR
    admin_client.post(reverse("web:space_member_remove", args=[lounge.slug, world.globex_member.pk]))
    assert SpaceMembership.objects.get(space=lounge, member=world.globex_member).state == MembershipState.REMOVED
    # Only people in the space's member list can be changed.
    stranger = reverse("web:space_member_role", args=[lounge.slug, world.outsider_member.pk])
    assert admin_client.post(stranger, {"role": "moderator"}).status_code == 404


# --- composing ------------------------------------------------------------------------------


def test_preview_renders_sanitised_html_and_writes_nothing(acme_client: Client, world: World, lounge: Space) -> None:
    url = reverse("web:thread_create", args=[lounge.slug])
    page = acme_client.get(url)
    assert "Community space" in _text(page) and "@handle" in _text(page)
    response = acme_client.post(
        url,
        {
            "title": "Preview me",
            "kind": "question",
            "body": "Some **bold** <script>alert(1)</script> [x](javascript:alert(1))",
            "preview": "1",
        },
    )
    body = _text(response)
    assert response.status_code == 200
    assert "<strong>bold</strong>" in body and "Preview — not posted yet" in body
    assert "<script>alert(1)</script>" not in body and 'href="javascript:' not in body
    assert 'value="Preview me"' in body  # the form keeps what was typed
    assert not Thread.objects.exists() and not Post.objects.exists()


def test_compose_errors_are_shown_and_nothing_is_stored(acme_client: Client, world: World, lounge: Space) -> None:
    url = reverse("web:thread_create", args=[lounge.slug])
    base = {"title": "A title", "kind": "discussion"}
    empty = _text(acme_client.post(url, {**base, "body": "   "}))
    assert "This field is required" in empty or "Write something first" in empty
    too_long = _text(acme_client.post(url, {**base, "body": "x" * (MAX_POST_CHARS + 1)}))
    assert f"At most {MAX_POST_CHARS:,} characters" in too_long
    unknown = _text(acme_client.post(url, {**base, "body": "hello @nobody-here"}))
    assert "unknown @nobody-here" in unknown
    no_title = _text(acme_client.post(url, {"kind": "discussion", "body": "text"}))
    assert "This field is required" in no_title
    assert not Thread.objects.exists()

    space_join(space=lounge, member=world.acme_member)
    space_leave(space=lounge, member=world.acme_member)
    left = _text(acme_client.post(url, {**base, "body": "I am back"}))
    assert "You left this space; join it again to post" in left

    Space.objects.filter(pk=lounge.pk).update(archived_at=timezone.now())
    archived = _text(acme_client.post(url, {**base, "body": "Anyone?"}))
    assert "archived" in archived
    assert not Thread.objects.exists()


def test_posting_a_thread_redirects_to_it(acme_client: Client, world: World, lounge: Space) -> None:
    response = acme_client.post(
        reverse("web:thread_create", args=[lounge.slug]),
        {"title": "Backups?", "kind": "question", "needs_staff": "on", "body": "How do you back up?"},
    )
    thread = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:thread_detail", args=[thread.pk])
    assert thread.kind == "question" and thread.needs_staff and thread.author == world.acme_member


# --- the thread page ------------------------------------------------------------------------


def test_thread_page_replies_badges_and_reply_to_a_post(
    acme_client: Client, admin_client: Client, world: World, lounge: Space
) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Kafka lag", body="Consumers lag")
    url = reverse("web:thread_detail", args=[thread.pk])
    staff_reply = post_reply(thread=thread, author=world.admin_member, body="Check the partitions")

    page = _text(acme_client.get(url))
    assert "Community space" in page and "Users lounge</a> \u203a Kafka lag" in page
    assert ">Staff</span>" in page and "Check the partitions" in page
    assert NOINDEX in page  # a members space is not for search engines

    # "Reply to this" fills in the parent; the reply says whom it answers.
    prefilled = _text(acme_client.get(url, {"reply_to": staff_reply.pk}))
    assert f'value="{staff_reply.pk}"' in prefilled and "Reply to Ada Admin" in prefilled
    preview = acme_client.post(url, {"body": "Thanks!", "parent": staff_reply.pk, "preview": "1"})
    assert "Preview — not posted yet" in _text(preview) and Post.objects.filter(thread=thread).count() == 2
    response = acme_client.post(url, {"body": "Thanks, that was it", "parent": staff_reply.pk})
    reply = Post.objects.get(body="Thanks, that was it")
    assert response.status_code == 302 and response["Location"] == f"{url}#post-{reply.pk}"
    assert reply.parent == staff_reply
    assert "in reply to <a" in _text(acme_client.get(url))

    # A parent from another thread is refused, and one the viewer cannot read is not found.
    other = thread_create(space=lounge, author=world.acme_member, title="Other", body="other")
    refused = acme_client.post(url, {"body": "x", "parent": other.posts.get().pk})
    assert "not in this thread" in _text(refused)


def test_locked_thread_shows_a_notice_and_refuses_replies(
    acme_client: Client, admin_client: Client, world: World, lounge: Space
) -> None:
    thread = thread_create(space=lounge, author=world.globex_member, title="Old news", body="text")
    url = reverse("web:thread_detail", args=[thread.pk])
    moderate = reverse("web:thread_moderate", args=[thread.pk])
    assert acme_client.post(moderate, {"field": "locked", "value": "1"}).status_code == 403
    admin_client.post(moderate, {"field": "locked", "value": "1"})
    thread.refresh_from_db()
    assert thread.locked
    page = _text(acme_client.get(url))
    assert "This thread is locked" in page and "Post reply" not in page
    response = acme_client.post(url, {"body": "Late reply"})
    assert response.status_code == 200
    assert "This thread is locked; no new replies" in _text(response)
    assert Post.objects.filter(thread=thread).count() == 1


def test_moderator_and_author_controls(
    acme_client: Client, admin_client: Client, globex_client: Client, world: World, lounge: Space
) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Pin me", body="text")
    moderate = reverse("web:thread_moderate", args=[thread.pk])
    assert "Ask staff to answer" in _text(acme_client.get(reverse("web:thread_detail", args=[thread.pk])))
    acme_client.post(moderate, {"field": "needs_staff", "value": "1"})
    assert globex_client.post(moderate, {"field": "needs_staff", "value": "0"}).status_code == 403
    assert acme_client.post(moderate, {"field": "pinned", "value": "1"}).status_code == 403
    admin_client.post(moderate, {"field": "pinned", "value": "1"})
    thread.refresh_from_db()
    assert thread.needs_staff and thread.pinned
    assert admin_client.post(moderate, {"field": "title", "value": "1"}).status_code == 400

    follow = reverse("web:thread_follow", args=[thread.pk])
    globex_client.post(follow, {"on": "1"})
    assert Follow.objects.filter(member=world.globex_member, thread=thread).exists()
    globex_client.post(follow, {"on": "0"})
    assert not Follow.objects.filter(member=world.globex_member, thread=thread).exists()


def test_reactions_toggle_and_the_asker_accepts_an_answer(
    acme_client: Client, globex_client: Client, world: World, lounge: Space
) -> None:
    question = thread_create(space=lounge, author=world.acme_member, title="How?", body="How?", kind="question")
    answer = post_reply(thread=question, author=world.globex_member, body="Like this")
    url = reverse("web:thread_detail", args=[question.pk])
    react = reverse("web:post_react", args=[answer.pk])

    response = acme_client.post(react, {"kind": "thanks", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert Reaction.objects.filter(post=answer, kind="thanks").count() == 1
    assert 'aria-pressed="true"' in _text(acme_client.get(url))
    acme_client.post(react, {"kind": "thanks"})
    assert not Reaction.objects.exists()
    acme_client.post(react, {"kind": "bogus"})
    assert not Reaction.objects.exists()
    # An offsite "next" is ignored.
    assert acme_client.post(react, {"kind": "like", "next": "https://evil.example/"})["Location"].startswith("/")

    # Only the asker (or a moderator) is offered, and allowed, to accept.
    assert "Accept as answer" not in _text(globex_client.get(url))
    globex_client.post(reverse("web:post_accept", args=[answer.pk]))
    question.refresh_from_db()
    assert question.accepted_post is None
    assert "Accept as answer" in _text(acme_client.get(url))
    acme_client.post(reverse("web:post_accept", args=[answer.pk]))
    question.refresh_from_db()
    assert question.accepted_post == answer
    page = _text(acme_client.get(url))
    assert "Read the answer" in page and "post card accepted" in page


def test_edit_own_post_keeps_history_and_others_cannot(
    acme_client: Client, globex_client: Client, admin_client: Client, world: World, lounge: Space
) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Typo", body="teh first text")
    post = thread.posts.get()
    edit = reverse("web:post_edit", args=[post.pk])
    assert globex_client.get(edit).status_code == 403
    assert globex_client.post(edit, {"body": "vandalised"}).status_code == 403

    preview = acme_client.post(edit, {"body": "the *second* text", "preview": "1"})
    assert "<em>second</em>" in _text(preview) and not PostRevision.objects.exists()
    response = acme_client.post(edit, {"body": "the *second* text"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body == "the *second* text" and post.edited_at is not None
    page = _text(acme_client.get(reverse("web:thread_detail", args=[thread.pk])))
    assert reverse("web:post_history", args=[post.pk]) in page and ">edited</a>" in page
    history = _text(globex_client.get(reverse("web:post_history", args=[post.pk])))
    assert "teh first text" in history
    assert "Write something first" in _text(acme_client.post(edit, {"body": "  "})) or "required" in _text(
        acme_client.post(edit, {"body": "  "})
    )
    # Moderators may edit too.
    assert admin_client.get(edit).status_code == 200


def test_post_link_goes_to_the_right_page(acme_client: Client, world: World, lounge: Space) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Long", body="start")
    Post.objects.bulk_create(
        [
            Post(thread=thread, author=world.acme_member, body=f"p{i}", html=f"<p>p{i}</p>", created_at=timezone.now())
            for i in range(105)
        ]
    )
    last = Post.objects.filter(thread=thread).order_by("-created_at", "-pk").first()
    assert last is not None
    response = acme_client.get(reverse("web:post_link", args=[last.pk]))
    assert response["Location"] == f"{reverse('web:thread_detail', args=[thread.pk])}?page=2#post-{last.pk}"
    assert "Page 2 of 2" in _text(acme_client.get(reverse("web:thread_detail", args=[thread.pk]), {"page": 2}))


# --- search ---------------------------------------------------------------------------------


def test_search_ranks_highlights_filters_and_paginates(
    acme_client: Client, world: World, lounge: Space, offers: Space
) -> None:
    thread_create(space=lounge, author=world.acme_member, title="Kafka tuning", body="Partitions <b>matter</b>")
    thread_create(space=offers, author=world.globex_member, title="Kafka support plan", body="kafka offer")
    url = reverse("web:search")

    assert "What are you looking for?" in _text(acme_client.get(url))
    assert "No results for" in _text(acme_client.get(url, {"q": "zzzunknownword"}))

    page = _text(acme_client.get(url, {"q": "kafka"}))
    assert "2 results" in page and "<mark>" in page
    assert "<b>matter</b>" not in page  # snippets are escaped; only <mark> is markup
    only_lounge = _text(acme_client.get(url, {"q": "kafka", "space": str(lounge.pk)}))
    assert "Kafka tuning" in only_lounge and "Kafka support plan" not in only_lounge
    by_gus = _text(acme_client.get(url, {"q": "kafka", "author": str(world.globex_member.pk)}))
    assert "Kafka support plan" in by_gus and "Kafka tuning" not in by_gus
    assert "Only posts by <strong>Gus Globex</strong>" in by_gus
    assert "more by this author" in page
    assert "not valid" in _text(acme_client.get(url, {"q": "kafka", "space": "999999"}))

    for i in range(25):
        thread_create(space=lounge, author=world.acme_member, title=f"Widget {i}", body="widget talk")
    first = _text(acme_client.get(url, {"q": "widget"}))
    assert "25 results" in first and "Page 1 of 2" in first
    second = _text(acme_client.get(url, {"q": "widget", "page": "2"}))
    assert "Page 2 of 2" in second


# --- notifications --------------------------------------------------------------------------


def test_notifications_badge_list_open_and_mark_all_read(acme_client: Client, world: World, lounge: Space) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Ping", body="anyone?")
    post_reply(thread=thread, author=world.globex_member, body=f"@{world.acme_member.handle} yes, here")
    post_reply(thread=thread, author=world.admin_member, body="me too")

    home = _text(acme_client.get(reverse("web:space_list")))
    assert 'class="unread-badge"' in home and ">2</span>" in home
    page = _text(acme_client.get(reverse("web:notifications")))
    assert "Gus Globex mentioned you" in page and "note unread" in page

    note = Notification.objects.get(recipient=world.acme_user, kind="mention")
    opened = acme_client.get(reverse("web:notification_open", args=[note.pk]))
    assert opened.status_code == 302 and opened["Location"] == note.url
    note.refresh_from_db()
    assert note.read_at is not None

    acme_client.post(reverse("web:notifications_read_all"))
    assert not Notification.objects.filter(recipient=world.acme_user, read_at__isnull=True).exists()
    assert 'class="unread-badge"' not in _text(acme_client.get(reverse("web:notifications")))

    # Only same-site links are followed; someone else's notification is not found.
    evil = Notification.objects.create(recipient=world.acme_user, kind="x", title="x", url="//evil.example/", key="e")
    assert acme_client.get(reverse("web:notification_open", args=[evil.pk]))["Location"] == reverse("web:notifications")
    theirs = Notification.objects.create(recipient=world.globex_user, kind="x", title="x", url="/", key="t")
    assert acme_client.get(reverse("web:notification_open", args=[theirs.pk])).status_code == 404


def test_notification_settings_are_saved(acme_client: Client, world: World) -> None:
    url = reverse("web:notification_settings")
    assert "Email me for each notification" in _text(acme_client.get(url))
    acme_client.post(url, {"digest": "daily"})
    prefs = NotificationPrefs.objects.get(user=world.acme_user)
    assert prefs.email_each is False and prefs.digest == DigestFrequency.DAILY
    bad = acme_client.post(url, {"email_each": "on", "digest": "hourly"})
    assert bad.status_code == 200 and "Select a valid choice" in _text(bad)


def test_unsubscribe_needs_a_click_and_honours_one_click_post(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    url = reverse("web:unsubscribe", args=[unsubscribe_token(world.acme_user)])
    page = client.get(url)
    assert page.status_code == 200 and "Stop all emails?" in _text(page)
    assert not NotificationPrefs.objects.filter(user=world.acme_user, email_each=False).exists()
    # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click", with no session or CSRF token.
    done = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "You are unsubscribed" in _text(done)
    prefs = NotificationPrefs.objects.get(user=world.acme_user)
    assert prefs.email_each is False and prefs.digest == DigestFrequency.NEVER
    assert client.post(reverse("web:unsubscribe", args=["forged:token"])).status_code == 400


def test_emails_carry_the_unsubscribe_link(world: World, lounge: Space) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Mail me", body="text")
    mail.outbox.clear()
    post_reply(thread=thread, author=world.globex_member, body="reply")
    # Emails go out after the commit, which a test transaction never reaches: send directly.
    note = Notification.objects.get(recipient=world.acme_user, kind="reply")
    send_immediate_emails([world.acme_user.pk], note.key)
    assert mail.outbox and "/unsubscribe/" in mail.outbox[-1].body


# --- staff queues ---------------------------------------------------------------------------


def test_queues_are_for_staff(admin_client: Client, acme_client: Client, world: World, lounge: Space) -> None:
    assert acme_client.get(reverse("web:queues")).status_code == 403
    waiting = thread_create(space=lounge, author=world.acme_member, title="Nobody answered", body="?")
    question = thread_create(space=lounge, author=world.acme_member, title="Help please", body="?", kind="question")
    post_reply(thread=question, author=world.globex_member, body="Customer to customer")
    url = reverse("web:queues")
    assert "Nobody answered" in _text(admin_client.get(url))
    assert waiting.title not in _text(admin_client.get(url, {"tab": "customer_answers"}))
    assert "Help please" in _text(admin_client.get(url, {"tab": "needs_staff"}))
    assert "Customer to customer" in _text(admin_client.get(url, {"tab": "customer_answers"}))
    nav = _text(admin_client.get(reverse("web:space_list")))
    assert reverse("web:queues") in nav
    assert reverse("web:queues") not in _text(acme_client.get(reverse("web:space_list")))


# --- organisation and member pages ----------------------------------------------------------


def test_staff_create_a_private_space_from_the_organisation_page(
    admin_client: Client, acme_client: Client, world: World
) -> None:
    url = reverse("web:org_detail", args=[world.acme.pk])
    assert "Create private space" in _text(admin_client.get(url))
    assert "Create private space" not in _text(acme_client.get(url))
    assert acme_client.post(reverse("web:org_space_create", args=[world.acme.pk])).status_code == 403

    response = admin_client.post(reverse("web:org_space_create", args=[world.acme.pk]))
    space = Space.objects.get(visibility=Visibility.ACCOUNT, organization=world.acme)
    assert response["Location"] == reverse("web:space_detail", args=[space.slug])
    page = _text(admin_client.get(url))
    assert "Create private space" not in page and space.name in page and "Carla Acme" in page
    # Acme's people see the link to their space on their organisation's page.
    assert reverse("web:space_detail", args=[space.slug]) in _text(acme_client.get(url))
    again = admin_client.post(reverse("web:org_space_create", args=[world.acme.pk]), follow=True)
    assert "already has a private space" in _text(again)
    assert "Create private space" not in _text(admin_client.get(reverse("web:org_detail", args=[world.ours.pk])))


def test_member_profile_lists_recent_posts_the_viewer_may_read(
    acme_client: Client, globex_client: Client, world: World, lounge: Space, acme_space: Space
) -> None:
    thread_create(space=lounge, author=world.admin_member, title="Open roadmap", body="for all")
    thread_create(space=acme_space, author=world.admin_member, title="Acme escalation", body="private")
    url = reverse("web:member_detail", args=[world.admin_member.pk])
    acme_view = _text(acme_client.get(url))
    assert "Open roadmap" in acme_view and "Acme escalation" in acme_view
    assert f"@{world.admin_member.handle}" in acme_view
    globex_view = _text(globex_client.get(url))
    assert "Open roadmap" in globex_view and "Acme escalation" not in globex_view


def test_top_bar_links_spaces_search_and_notifications(acme_client: Client, client: Client, world: World) -> None:
    page = _text(acme_client.get(reverse("web:home")))
    for name in ("web:space_list", "web:search", "web:notifications"):
        assert reverse(name) in page
    anonymous = _text(client.get(reverse("web:space_list")))
    assert reverse("web:space_list") in anonymous and "Log in" in anonymous
    assert reverse("web:notifications") not in anonymous


def test_every_space_page_is_documented() -> None:
    from convenor.web import urls, views_inbox, views_spaces

    doc = (Path(__file__).resolve().parents[3] / "docs" / "spaces.md").read_text()
    modules = {views_spaces.__name__, views_inbox.__name__}
    routes = [
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "<id>" if m[1].endswith("id") else f"<{m[1]}>", str(p.pattern))
        for p in urls.urlpatterns
        if getattr(p, "callback", None) is not None and p.callback.__module__ in modules
    ]
    assert len(routes) > 20
    missing = [r for r in routes if f"`{r}" not in doc]
    assert missing == [], f"document these in docs/spaces.md: {missing}"
