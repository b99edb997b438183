"""The reads and the one rule added for the web pages."""

from __future__ import annotations

import pytest

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import DigestFrequency
from convenor.core.notify import prefs_for, prefs_set
from convenor.core.testing import World
from convenor.people.models import Role
from convenor.people.services import member_create
from convenor.spaces import selectors
from convenor.spaces.models import MembershipState, Space, SpaceMembership
from convenor.spaces.services import post_reply, space_invite, thread_create


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
