from __future__ import annotations

import pytest
from django.core import mail

from convenor.activity.models import Activity, Verb
from convenor.core import access
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import Notification
from convenor.core.testing import World
from convenor.people.models import Role
from convenor.people.services import affiliation_add, affiliation_end, member_create
from convenor.spaces.models import DEFAULT_CHARTER, Frame, MembershipState, Post, Space, SpaceMembership, Thread
from convenor.spaces.search import search_posts
from convenor.spaces.selectors import notifications_visible, queue_customer_answers, queue_needs_staff
from convenor.spaces.services import (
    MAX_POST_CHARS,
    answer_accept,
    post_edit,
    post_reply,
    reaction_toggle,
    space_create,
    space_join,
    space_leave,
    thread_create,
    thread_moderate,
    thread_recount,
)


def test_community_spaces_start_with_the_charter_and_frame_is_required(world: World) -> None:
    s = space_create(name="Help", frame=Frame.COMMUNITY)
    assert s.charter == DEFAULT_CHARTER
    assert space_create(name="Offers", frame=Frame.COMMERCIAL).charter == ""
    with pytest.raises(ApplicationError) as err:
        space_create(name="", frame="sales-ish", visibility="secret")
    assert set(err.value.fields) == {"name", "frame", "visibility"}


def test_account_space_is_invisible_to_a_competitor(world: World, acme_space: Space) -> None:
    assert access.visible_spaces(world.acme_user).filter(pk=acme_space.pk).exists()
    assert not access.visible_spaces(world.globex_user).filter(pk=acme_space.pk).exists()
    with pytest.raises(ApplicationError) as err:
        access.space_for_view(world.globex_user, acme_space.pk)
    assert err.value.code == ErrorCode.NOT_FOUND
    # Acme's current people were invited
    m = SpaceMembership.objects.get(space=acme_space, member=world.acme_member)
    assert m.state == MembershipState.INVITED
    assert Notification.objects.filter(recipient=world.acme_user, kind="invited").exists()


def test_people_who_join_later_are_added_and_leavers_lose_access(world: World, acme_space: Space) -> None:
    newcomer = member_create(name="Nina New", email="nina@acme.example", role=Role.CUSTOMER)
    from convenor.people.services import account_create

    user = account_create(email="nina@acme.example", password="long-password-1")
    assert not access.visible_spaces(user).filter(pk=acme_space.pk).exists()
    aff = affiliation_add(member=newcomer, organization=world.acme)
    assert access.visible_spaces(user).filter(pk=acme_space.pk).exists()
    assert SpaceMembership.objects.get(space=acme_space, member=newcomer).state == MembershipState.ACTIVE
    affiliation_end(affiliation=aff)
    assert not access.visible_spaces(user).filter(pk=acme_space.pk).exists()


def test_thread_reply_mention_and_activity(world: World, lounge: Space) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Backups?", body="How do you back up?")
    mail.outbox.clear()
    reply = post_reply(thread=thread, author=world.globex_member, body=f"Nightly. cc @{world.admin_member.handle}")
    acts = dict(Activity.objects.filter(object_id=reply.pk).values_list("verb", "target_member"))
    # influence: replied to the thread's author; mention of the admin
    assert acts[Verb.REPLIED] == world.acme_member.pk
    assert acts[Verb.MENTIONED] == world.admin_member.pk
    assert 'class="mention"' in reply.html
    # the thread's author and the mentioned admin are notified, once each
    assert Notification.objects.filter(recipient=world.acme_user, kind="reply").count() == 1
    assert Notification.objects.filter(recipient=world.admin, kind="mention").count() == 1
    thread.refresh_from_db()
    assert thread.reply_count == 1
    assert Activity.objects.filter(verb=Verb.POSTED, place_kind="space", place_id=lounge.pk).count() == 1


def test_bad_posts_are_refused_and_nothing_is_stored(world: World, lounge: Space) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Hello", body="Hi all")
    posts = Post.objects.count()
    for body, field in (("   ", "body"), ("x" * (MAX_POST_CHARS + 1), "body"), ("hi @nobody-here", "body")):
        with pytest.raises(ApplicationError) as err:
            post_reply(thread=thread, author=world.globex_member, body=body)
        assert field in err.value.fields
    assert Post.objects.count() == posts


def test_script_never_survives(world: World, lounge: Space) -> None:
    thread = thread_create(
        space=lounge,
        author=world.acme_member,
        title="<script>alert(1)</script>",
        body="<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))",
    )
    html = thread.posts.get().html
    # What survives is escaped text, never live markup: no tag, handler or script link.
    assert "<script" not in html and "<img" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


def test_mentioning_someone_who_cannot_read_the_space_is_refused(world: World, acme_space: Space) -> None:
    with pytest.raises(ApplicationError) as err:
        thread_create(
            space=acme_space, author=world.acme_member, title="Hi", body=f"@{world.globex_member.handle} look"
        )
    assert "cannot read this space" in err.value.message


def test_locked_threads_and_left_spaces_refuse_posts(world: World, lounge: Space) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="T", body="B")
    thread_moderate(thread=thread, locked=True)
    with pytest.raises(ApplicationError) as err:
        post_reply(thread=thread, author=world.globex_member, body="late")
    assert err.value.code == ErrorCode.CONFLICT
    space_join(space=lounge, member=world.globex_member)
    space_leave(space=lounge, member=world.globex_member)
    with pytest.raises(ApplicationError) as err:
        thread_create(space=lounge, author=world.globex_member, title="T2", body="B2")
    assert err.value.code == ErrorCode.PERMISSION_DENIED


def test_edit_keeps_history(world: World, lounge: Space) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="T", body="first")
    post = thread.posts.get()
    post_edit(post=post, editor=world.acme_member, body="second")
    assert post.revisions.get().body == "first" and post.edited_at is not None


def test_reactions_toggle_and_accepted_answers(world: World, lounge: Space) -> None:
    q = thread_create(space=lounge, author=world.acme_member, title="Q?", body="How?", kind="question")
    answer = post_reply(thread=q, author=world.globex_member, body="Like this")
    assert reaction_toggle(post=answer, member=world.acme_member, kind="thanks") is True
    assert reaction_toggle(post=answer, member=world.acme_member, kind="thanks") is False
    assert reaction_toggle(post=answer, member=world.acme_member, kind="like") is True
    answer.refresh_from_db()
    assert answer.reaction_count == 1
    with pytest.raises(ApplicationError):
        answer_accept(thread=q, post=answer, by=world.outsider_member)
    answer_accept(thread=q, post=answer, by=world.acme_member)
    assert Activity.objects.filter(verb=Verb.ANSWER_ACCEPTED, target_member=world.globex_member).exists()
    # customers answering customers show up in the staff queue
    assert list(queue_customer_answers(viewer=world.admin)) == [answer]
    assert q not in queue_needs_staff(viewer=world.admin)
    Thread.objects.filter(pk=q.pk).update(reply_count=99)
    assert thread_recount(thread=q).reply_count == 1


def test_search_finds_only_what_the_viewer_may_read(world: World, lounge: Space, acme_space: Space) -> None:
    thread_create(space=lounge, author=world.acme_member, title="Kafka tuning", body="Partitions and consumers")
    thread_create(space=acme_space, author=world.acme_member, title="Acme kafka contract", body="Our secret kafka")
    admin_hits = search_posts(viewer=world.admin, q="kafka")
    assert admin_hits.total == 2
    globex_hits = search_posts(viewer=world.globex_user, q="kafka")
    assert [h.thread_title for h in globex_hits.hits] == ["Kafka tuning"]
    assert "<mark>" in globex_hits.hits[0].snippet_html or "<mark>" in admin_hits.hits[0].snippet_html
    # prefix search, and operators typed by users are just words
    assert search_posts(viewer=world.admin, q="partit").total == 1
    assert search_posts(viewer=world.admin, q='") OR NEAR(').total == 0
    assert search_posts(viewer=world.admin, q="kafka", space_id=lounge.pk).total == 1


def test_visible_space_rows_are_visible_spaces_read_afresh_each_time(
    world: World, lounge: Space, acme_space: Space
) -> None:
    """The compiled SQL is kept per viewer, never the rows: a change of membership or
    affiliation shows on the very next call, as with visible_spaces."""
    from django.contrib.auth.models import AnonymousUser

    from convenor.core.models import User
    from convenor.spaces.services import space_remove_member

    fields = ("pk", "name", "version")

    def same(user: User | AnonymousUser) -> list[tuple[object, ...]]:
        rows = access.visible_space_rows(user, fields, "name")
        assert rows == list(access.visible_spaces(user).order_by("name").values_list(*fields))
        return rows

    for user in (world.admin, world.acme_user, world.globex_user, world.outsider, AnonymousUser()):
        same(user)
    assert acme_space.pk in {r[0] for r in same(User.objects.get(pk=world.acme_user.pk))}
    assert acme_space.pk not in {r[0] for r in same(world.globex_user)}
    # A moderator removes Carla from Acme's space: gone at once, with the SQL already kept.
    space_remove_member(space=acme_space, member=world.acme_member)
    assert acme_space.pk not in {r[0] for r in same(User.objects.get(pk=world.acme_user.pk))}
    # Gus leaves Globex and joins Acme: Acme's space appears, on a fresh request's user.
    affiliation_end(affiliation=world.globex_member.affiliations.get(organization=world.globex))
    affiliation_add(member=world.globex_member, organization=world.acme)
    assert acme_space.pk in {r[0] for r in same(User.objects.get(pk=world.globex_user.pk))}
    # Staff roles change the SQL itself: a new role is a new entry.
    assert acme_space.pk not in {r[0] for r in same(world.outsider)}
    world.outsider.staff_role = "admin"
    world.outsider.save()
    assert acme_space.pk in {r[0] for r in same(User.objects.get(pk=world.outsider.pk))}


def test_search_takes_a_one_letter_last_word_whole(world: World, lounge: Space) -> None:
    """A prefix of one letter would make FTS5 merge every word starting with it; no prefix
    index holds those. Two letters or more are prefixes as before."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("prefixes are FTS5's (PostgreSQL's websearch_to_tsquery takes whole words)")
    thread_create(space=lounge, author=world.acme_member, title="Kafka notes", body="kafka x marks the spot")
    thread_create(space=lounge, author=world.acme_member, title="Kafka music", body="kafka xylophone")
    assert search_posts(viewer=world.admin, q="kafka x").total == 1
    assert search_posts(viewer=world.admin, q="kafka xy").total == 1
    assert search_posts(viewer=world.admin, q="kafka").total == 2


def test_search_marks_long_last_words_whether_whole_or_begun(world: World, lounge: Space) -> None:
    """Longer than the longest prefix index: the snippets ask the whole word first, then the
    prefix for the hits it missed (search._snippet_queries); every hit is kept and marked."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("prefixes are FTS5's (PostgreSQL's websearch_to_tsquery takes whole words)")
    thread_create(space=lounge, author=world.acme_member, title="Ops", body="Our dashboards are slow")
    thread_create(space=lounge, author=world.acme_member, title="Ops", body="Dashboarding with care")
    thread_create(space=lounge, author=world.acme_member, title="Ops", body="The dashboardapp topics")
    # "dashboardapp" is found through the prefix only (the others are stemmed "dashboard").
    for q, found in (("dashboard", 3), ("dashboards", 3), ("topics dashboard", 1), ("dashboarding slow", 1)):
        page = search_posts(viewer=world.admin, q=q)
        assert page.total == len(page.hits) == found, q
        assert all("<mark>" in h.snippet_html for h in page.hits), (q, [h.snippet_html for h in page.hits])


def test_search_pages_are_the_whole_ranking_cut_in_pages(world: World, lounge: Space) -> None:
    """Each page is its part of every match ranked best first, ties newest first, with the
    count of them all, also on a page past the end. On SQLite the count and the page come
    from one statement (search._fts5_page): checked against bm25 over every match."""
    from django.db import connection

    posts = []
    for i in range(45):
        title = "Kafka notes" if i % 3 == 0 else "Notes"
        body = "kafka " * (i % 4 + 1) + "filler words here " * (i % 5)
        posts.append(thread_create(space=lounge, author=world.acme_member, title=title, body=body))
    pages = [search_posts(viewer=world.admin, q="kafka", page=n, page_size=20) for n in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [20, 20, 5, 0]
    assert {p.total for p in pages} == {45}
    hits = [h for p in pages for h in p.hits]
    assert len({h.post_id for h in hits}) == 45
    assert [(h.rank, h.post_id) for h in hits] == sorted(((h.rank, h.post_id) for h in hits), reverse=True)
    assert len({h.rank for h in hits}) < 45  # there are ties, ordered newest first
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid, bm25(spaces_post_fts, 4.0, 1.0) FROM spaces_post_fts WHERE spaces_post_fts MATCH %s",
                ['"kafka"'],
            )
            every = sorted(cursor.fetchall(), key=lambda r: (r[1], -r[0]))
        assert [(h.post_id, h.rank) for h in hits] == [(i, abs(r)) for i, r in every]


def test_search_index_has_prefix_indexes(db: None) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table is SQLite's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'spaces_post_fts'")
        assert "prefix='2 3 4 5 6 7 8'" in cursor.fetchone()[0]


def test_sqlite_connections_read_the_database_through_mmap(db: None) -> None:
    """Searches walk long index entries: read in place from the operating system's cache
    (settings.py, mmap_size), not copied page by page into each connection's cache."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("an SQLite setting")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA mmap_size")
        assert cursor.fetchone()[0] > 0


def test_notifications_about_a_space_disappear_when_access_is_lost(world: World, acme_space: Space) -> None:
    assert notifications_visible(user=world.acme_user).filter(place_id=acme_space.pk).exists()
    aff = world.acme_member.affiliations.get(organization=world.acme)
    affiliation_end(affiliation=aff)
    assert not notifications_visible(user=world.acme_user).filter(place_id=acme_space.pk).exists()
