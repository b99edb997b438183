"""The reads and the one rule added for the web pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import DigestFrequency, User
from convenor.core.notify import prefs_for, prefs_set
from convenor.core.testing import World
from convenor.people.models import Role
from convenor.people.services import member_create
from convenor.spaces import selectors
from convenor.spaces.models import MembershipState, Post, PostState, Space, SpaceMembership, Thread
from convenor.spaces.selectors import ReaderFacts
from convenor.spaces.services import post_reply, reaction_toggle, space_invite, thread_create


def test_account_space_of_and_post_position(world: World, lounge: Space, acme_space: Space) -> None:
    assert selectors.account_space_of(organization_id=world.acme.pk) == acme_space
    assert selectors.account_space_of(organization_id=world.globex.pk) is None
    thread = thread_create(space=lounge, author=world.acme_member, title="T", body="first")
    replies = [post_reply(thread=thread, author=world.globex_member, body=f"r{i}") for i in range(3)]
    assert selectors.post_position(post=thread.posts.order_by("pk")[0]) == 0
    assert [selectors.post_position(post=p) for p in replies] == [1, 2, 3]


def test_member_recent_posts_only_in_spaces_the_viewer_may_read(world: World, lounge: Space, acme_space: Space) -> None:
    thread_create(space=lounge, author=world.acme_member, title="Open", body="open")
    thread_create(space=acme_space, author=world.acme_member, title="Private", body="private")
    for user, expected in ((world.admin, ["Private", "Open"]), (world.globex_user, ["Open"])):
        posts = selectors.member_recent_posts(viewer=user, member=world.acme_member)
        assert [p.thread.title for p in posts] == expected


def test_nobody_outside_the_account_is_invited_to_its_private_space(world: World, acme_space: Space) -> None:
    with pytest.raises(ApplicationError) as err:
        space_invite(space=acme_space, member=world.globex_member, by=world.admin_member)
    assert err.value.code == ErrorCode.VALIDATION and "member" in err.value.fields
    assert not SpaceMembership.objects.filter(space=acme_space, member=world.globex_member).exists()
    # Employees can be named for it.
    employee = member_create(name="Eve Employee", email="eve@northwind.example", role=Role.EMPLOYEE)
    assert space_invite(space=acme_space, member=employee, by=world.admin_member).state == MembershipState.INVITED


def test_notification_prefs_are_validated(world: World) -> None:
    prefs_set(world.acme_user, email_each=False, digest=DigestFrequency.DAILY)
    assert prefs_for(world.acme_user).digest == DigestFrequency.DAILY
    with pytest.raises(ApplicationError) as err:
        prefs_set(world.acme_user, email_each=True, digest="hourly")
    assert "digest" in err.value.fields


def test_a_readers_facts_on_a_thread_carry_their_reactions_and_held_posts(
    world: World, lounge: Space, django_assert_num_queries: Any
) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="T", body="first")
    other = thread_create(space=lounge, author=world.acme_member, title="Other", body="elsewhere")
    replies = [post_reply(thread=thread, author=world.globex_member, body=f"r{i}") for i in range(3)]
    reaction_toggle(post=replies[0], member=world.acme_member, kind="thanks")
    reaction_toggle(post=replies[0], member=world.acme_member, kind="celebrate")
    reaction_toggle(post=replies[2], member=world.acme_member, kind="insightful")
    reaction_toggle(post=replies[1], member=world.globex_member, kind="thanks")  # not acme's
    reaction_toggle(post=other.posts.get(), member=world.acme_member, kind="thanks")  # another thread

    def facts_of(user: User) -> ReaderFacts | None:
        found = selectors.thread_and_reader_facts(user_id=user.pk, thread_id=thread.pk)
        assert found is not None
        return found[1]

    with django_assert_num_queries(1):
        facts = facts_of(world.acme_user)
    assert facts is not None and facts.member_id == world.acme_member.pk
    assert {pk: sorted(kinds) for pk, kinds in facts.reactions.items()} == {
        replies[0].pk: ["celebrate", "thanks"],
        replies[2].pk: ["insightful"],
    }
    assert not facts.held_posts and not facts.held_threads and not facts.coming_events
    # A held (or rejected) post of theirs in the thread, and only theirs, makes the page their own.
    Post.objects.filter(pk=replies[1].pk).update(state=PostState.HELD)
    assert not facts_of(world.acme_user).held_posts  # type: ignore[union-attr]
    globex = facts_of(world.globex_user)
    assert globex is not None and globex.held_posts and globex.reactions == {replies[1].pk: ["thanks"]}
    Post.objects.filter(pk=replies[1].pk).update(state=PostState.REJECTED)
    globex = facts_of(world.globex_user)
    assert globex is not None and globex.held_posts
    # The space page's facts have no reactions.
    found = selectors.space_and_reader_facts(user_id=world.acme_user.pk, slug=lounge.slug)
    assert found is not None and found[1] is not None
    assert found[1].reactions == {} and not found[1].held_posts


def test_a_thread_and_its_readers_facts_come_in_one_query_whoever_may_read_it(
    world: World, lounge: Space, acme_space: Space, django_assert_num_queries: Any
) -> None:
    """The logged-in thread page's one read: the caller applies the permission gate."""
    thread = thread_create(space=lounge, author=world.acme_member, title="Open", body="first")
    reply = post_reply(thread=thread, author=world.globex_member, body="second")
    reaction_toggle(post=reply, member=world.acme_member, kind="thanks")
    with django_assert_num_queries(1):
        found = selectors.thread_and_reader_facts(user_id=world.acme_user.pk, thread_id=thread.pk)
    assert found is not None
    read, facts = found
    assert read == thread and read.title == "Open" and read.version == Thread.objects.get(pk=thread.pk).version
    assert read.space == lounge and read.space.visibility == lounge.visibility
    assert facts is not None and facts.member_id == world.acme_member.pk
    assert facts.reactions == {reply.pk: ["thanks"]}
    # A user with no member profile: the thread, no facts.
    found = selectors.thread_and_reader_facts(user_id=world.admin.pk + 10_000, thread_id=thread.pk)
    assert found is not None and found[0] == thread and found[1] is None
    # A private space's thread is read too (the caller decides whether the user may see it).
    private = thread_create(space=acme_space, author=world.acme_member, title="Private", body="p")
    found = selectors.thread_and_reader_facts(user_id=world.globex_user.pk, thread_id=private.pk)
    assert found is not None and found[0] == private and found[0].space == acme_space
    assert selectors.thread_and_reader_facts(user_id=world.acme_user.pk, thread_id=private.pk + 1000) is None


def test_a_space_and_its_readers_facts_come_in_one_query_whoever_may_read_it(
    world: World, lounge: Space, acme_space: Space, django_assert_num_queries: Any
) -> None:
    thread = thread_create(space=lounge, author=world.acme_member, title="Open", body="first")
    Thread.objects.filter(pk=thread.pk).update(state=PostState.HELD)
    with django_assert_num_queries(1):
        found = selectors.space_and_reader_facts(user_id=world.acme_user.pk, slug=lounge.slug)
    assert found is not None
    space, facts = found
    assert space == lounge and space.name == lounge.name and space.version == Space.objects.get(pk=lounge.pk).version
    assert facts is not None and facts.member_id == world.acme_member.pk
    assert facts.held_threads and not facts.held_posts and not facts.coming_events
    found = selectors.space_and_reader_facts(user_id=world.admin.pk + 10_000, slug=lounge.slug)
    assert found is not None and found[0] == lounge and found[1] is None
    # A private space is read too (the caller decides whether the user may see it).
    found = selectors.space_and_reader_facts(user_id=world.globex_user.pk, slug=acme_space.slug)
    assert found is not None and found[0] == acme_space
    assert selectors.space_and_reader_facts(user_id=world.acme_user.pk, slug="no-such-space") is None


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_held_post_check_reads_the_partial_index_not_the_threads_posts(world: World) -> None:
    held = "SELECT 1 FROM spaces_post p WHERE p.thread_id = %s AND p.author_id = %s AND NOT (p.state = 'published')"
    assert held in selectors._page_sql(selectors._thread_page_sql, None).replace("%(thread)s", "%s").replace(
        "m.id", "%s"
    )
    with connection.cursor() as cur:
        cur.execute("EXPLAIN QUERY PLAN " + held, [1, 2])
        plan = " ".join(str(row[-1]) for row in cur.fetchall())
    assert "spaces_post_unpublished_idx" in plan
