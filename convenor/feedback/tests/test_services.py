"""Ideas, votes, statuses, merges and closing the loop, through the services."""

from __future__ import annotations

import pytest
from django.core import mail

from convenor.activity.models import Activity, Verb
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import Notification
from convenor.core.testing import World
from convenor.feedback import selectors, services
from convenor.feedback.models import Board, Idea, IdeaFollow, IdeaStatus, StatusChange, Vote
from convenor.people.models import Member, Role
from convenor.people.services import member_create
from convenor.spaces.models import Post, Space, Thread
from convenor.spaces.selectors import opening_post


def test_empty_title_is_refused_with_a_clear_message(world: World, public_board: Board) -> None:
    with pytest.raises(ApplicationError) as err:
        services.idea_create(board=public_board, author=world.acme_member, title="   ")
    assert err.value.code == ErrorCode.VALIDATION
    assert err.value.fields == {"title": ["This field is required"]}
    assert not Idea.objects.exists()


def test_submitting_records_an_activity_and_follows(world: World, public_board: Board) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    act = Activity.objects.get(verb=Verb.SUBMITTED_IDEA)
    assert (act.actor_id, act.object_kind, act.object_id) == (world.acme_member.pk, "idea", idea.pk)
    assert idea.follower_count == 1
    public_board.refresh_from_db()
    assert public_board.idea_count == 1


def test_voting_twice_is_refused_and_counted_once(world: World, public_board: Board) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    services.vote_cast(idea=idea, member=world.globex_member, importance=3)
    with pytest.raises(ApplicationError) as err:
        services.vote_cast(idea=idea, member=world.globex_member)
    assert err.value.code == ErrorCode.DUPLICATE
    assert "already voted" in err.value.message
    idea.refresh_from_db()
    assert idea.vote_count == 1
    assert Activity.objects.filter(verb=Verb.VOTED, actor=world.globex_member).count() == 1
    assert services.vote_withdraw(idea=idea, member=world.globex_member)
    assert not services.vote_withdraw(idea=idea, member=world.globex_member)
    idea.refresh_from_db()
    assert idea.vote_count == 0


def test_unknown_importance_is_refused(world: World, public_board: Board) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    with pytest.raises(ApplicationError) as err:
        services.vote_cast(idea=idea, member=world.globex_member, importance=7)
    assert err.value.code == ErrorCode.VALIDATION
    assert "importance" in err.value.fields


def test_voting_on_declined_or_merged_ideas_is_refused(world: World, public_board: Board) -> None:
    a = services.idea_create(board=public_board, author=world.acme_member, title="A")
    b = services.idea_create(board=public_board, author=world.acme_member, title="B")
    services.status_change(idea=a, to_status=IdeaStatus.DECLINED, note="Out of scope", by=world.admin)
    with pytest.raises(ApplicationError, match="declined"):
        services.vote_cast(idea=a, member=world.globex_member)
    c = services.idea_create(board=public_board, author=world.acme_member, title="C")
    services.idea_merge(source=c, target=b, by=world.admin)
    c.refresh_from_db()
    with pytest.raises(ApplicationError, match=f"merged into #{b.pk}"):
        services.vote_cast(idea=c, member=world.globex_member)


def test_comment_records_an_activity_and_notifies_followers(world: World, public_board: Board) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    with pytest.raises(ApplicationError):
        services.comment_add(idea=idea, author=world.globex_member, body="  ")
    services.comment_add(idea=idea, author=world.globex_member, body="Yes please")
    idea.refresh_from_db()
    assert idea.comment_count == 1
    assert Activity.objects.filter(verb=Verb.COMMENTED, actor=world.globex_member).exists()
    assert Notification.objects.filter(recipient=world.acme_user, kind="idea_comment").exists()


def test_merging_carries_votes_and_followers_over_without_counting_anyone_twice(
    world: World, public_board: Board
) -> None:
    source = services.idea_create(board=public_board, author=world.acme_member, title="CSV export")
    target = services.idea_create(board=public_board, author=world.globex_member, title="Export to CSV")
    services.vote_cast(idea=source, member=world.acme_member)
    services.vote_cast(idea=source, member=world.globex_member)
    services.vote_cast(idea=target, member=world.globex_member)
    services.vote_cast(idea=source, member=world.outsider_member)
    target = services.idea_merge(source=source, target=target, by=world.admin)
    assert target.vote_count == 3
    assert Vote.objects.filter(idea=target).count() == 3
    assert Vote.objects.filter(idea=target, member=world.globex_member).count() == 1
    assert target.follower_count == IdeaFollow.objects.filter(idea=target).count() == 3
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert source.vote_count == 0
    assert selectors.idea_list(viewer=world.admin).filter(pk=source.pk).count() == 0


def test_merging_into_itself_or_an_unseen_board_is_refused(
    world: World, public_board: Board, acme_board: Board
) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="SSO")
    with pytest.raises(ApplicationError) as err:
        services.idea_merge(source=idea, target=idea, by=world.admin)
    assert err.value.code == ErrorCode.MERGE_SELF
    private = services.idea_create(board=acme_board, author=world.acme_member, title="SSO for Acme")
    services.vote_cast(idea=idea, member=world.globex_member)
    with pytest.raises(ApplicationError) as err:
        services.idea_merge(source=idea, target=private, by=world.admin)
    assert err.value.code == ErrorCode.PERMISSION_DENIED
    assert "Gus Globex" in err.value.message and "cannot see" in err.value.message
    idea.refresh_from_db()
    assert idea.merged_into_id is None and idea.vote_count == 1
    # Acme's own people may be merged into Acme's board.
    only_acme = services.idea_create(board=public_board, author=world.acme_member, title="SSO again")
    services.idea_merge(source=only_acme, target=private, by=world.admin)


def test_a_post_becomes_an_idea_crediting_its_author(world: World, public_board: Board, lounge_thread: Thread) -> None:
    post = opening_post(thread=lounge_thread)
    assert post is not None
    idea = services.idea_from_post(post=post, board=public_board, by=world.admin_member, title="CSV export of reports")
    assert idea.author_id == world.acme_member.pk
    assert idea.created_by_id == world.admin_member.pk
    source = idea.sources.get()
    assert (source.post_id, source.thread_id, source.space_id) == (post.pk, lounge_thread.pk, lounge_thread.space_id)
    with pytest.raises(ApplicationError) as err:
        services.idea_link_post(idea=idea, post=post, by=world.admin_member)
    assert err.value.code == ErrorCode.DUPLICATE
    assert selectors.thread_ideas(viewer=world.acme_user, thread_id=lounge_thread.pk) == {post.pk: [idea]}


def test_a_threads_ideas_show_only_to_who_may_read_their_board(
    world: World, public_board: Board, acme_board: Board, lounge_thread: Thread
) -> None:
    post = opening_post(thread=lounge_thread)
    assert post is not None
    assert selectors.thread_ideas(viewer=world.globex_user, thread_id=lounge_thread.pk) == {}
    private = services.idea_from_post(post=post, board=acme_board, by=world.admin_member, title="Acme only")
    assert selectors.thread_ideas(viewer=world.globex_user, thread_id=lounge_thread.pk) == {}
    assert selectors.thread_ideas(viewer=world.acme_user, thread_id=lounge_thread.pk) == {post.pk: [private]}
    public = services.idea_from_post(post=post, board=public_board, by=world.admin_member, title="For all")
    assert selectors.thread_ideas(viewer=world.globex_user, thread_id=lounge_thread.pk) == {post.pk: [public]}
    assert selectors.thread_ideas(viewer=world.admin, thread_id=lounge_thread.pk) == {post.pk: [private, public]}
    # Read afresh each time: a status change shows at once.
    services.status_change(idea=public, to_status=IdeaStatus.PLANNED, note="", by=world.admin)
    [shown] = selectors.thread_ideas(viewer=world.globex_user, thread_id=lounge_thread.pk)[post.pk]
    assert shown.status == IdeaStatus.PLANNED


def test_status_change_closes_the_loop(
    world: World, public_board: Board, lounge_thread: Thread, acme_space: Space, settings: object
) -> None:
    post = opening_post(thread=lounge_thread)
    assert post is not None
    idea = services.idea_from_post(post=post, board=public_board, by=world.admin_member, title="CSV export")
    acme_thread = Thread.objects.create(space=acme_space, title="Reports", author=world.acme_member)
    acme_post = Post.objects.create(thread=acme_thread, author=world.acme_member, body="CSV!", html="<p>CSV!</p>")
    services.idea_link_post(idea=idea, post=acme_post, by=world.admin_member)
    services.vote_cast(idea=idea, member=world.globex_member)
    mail.outbox.clear()
    change = services.status_change(idea=idea, to_status=IdeaStatus.SHIPPED, note="Shipped in 4.2", by=world.admin)
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.SHIPPED and idea.changelog_note == "Shipped in 4.2"
    assert StatusChange.objects.filter(idea=idea, from_status="new", to_status="shipped").count() == 1
    # voters and followers notified, the actor is not
    notified = set(Notification.objects.filter(kind="idea_status").values_list("recipient_id", flat=True))
    assert notified == {world.acme_user.pk, world.globex_user.pk}
    # a reply in both threads it came from, by the staff member
    replies = Post.objects.filter(pk__in=change.loop["replies"])
    assert {p.thread_id for p in replies} == {lounge_thread.pk, acme_thread.pk}
    assert all(p.author_id == world.admin_member.pk and "Shipped in 4.2" in p.body for p in replies)
    # the account space where it was raised got an announcement thread
    assert Thread.objects.get(pk__in=change.loop["announcements"]).space_id == acme_space.pk
    assert Activity.objects.filter(verb=Verb.REPLIED, actor=world.admin_member).count() == 2
    with pytest.raises(ApplicationError, match="already shipped"):
        services.status_change(idea=idea, to_status=IdeaStatus.SHIPPED, by=world.admin)
    assert list(selectors.changelog(public_only=True)) == [idea]


def test_private_board_notifications_skip_people_who_left_the_account(world: World, acme_board: Board) -> None:
    idea = services.idea_create(board=acme_board, author=world.acme_member, title="Acme SSO")
    gus = world.globex_member
    services.follow_set(idea=idea, member=gus, on=True)  # cannot happen through the gate; proves the filter
    services.status_change(idea=idea, to_status=IdeaStatus.PLANNED, by=world.admin)
    assert not Notification.objects.filter(recipient=world.globex_user).exists()
    assert Notification.objects.filter(recipient=world.acme_user, kind="idea_status").exists()


def test_recount_repairs_counters(world: World, public_board: Board) -> None:
    idea = services.idea_create(board=public_board, author=world.acme_member, title="Dark mode")
    services.vote_cast(idea=idea, member=world.globex_member)
    Idea.objects.filter(pk=idea.pk).update(vote_count=42, follower_count=0)
    Board.objects.filter(pk=public_board.pk).update(idea_count=9)
    assert services.recount_all() == 2
    idea.refresh_from_db()
    public_board.refresh_from_db()
    assert (idea.vote_count, idea.follower_count, public_board.idea_count) == (1, 2, 1)
    assert services.recount_all() == 0


def test_demand_weighs_votes_by_organisation_and_filters(world: World, public_board: Board) -> None:
    world.acme.demand_weight = 5.0
    world.acme.industry = "Retail"
    world.acme.save()
    a = services.idea_create(board=public_board, author=world.admin_member, title="Loved by Acme")
    b = services.idea_create(board=public_board, author=world.admin_member, title="Loved by many")
    services.vote_cast(idea=a, member=world.acme_member, importance=3)
    for m in (world.globex_member, world.outsider_member):
        services.vote_cast(idea=b, member=m)
    extra: Member = member_create(name="Pat Partner", email="pat@p.example", role=Role.PARTNER)
    services.vote_cast(idea=b, member=extra)
    rows = selectors.demand(viewer=world.admin, filters=selectors.DemandFilters())
    assert [(r.idea.pk, r.votes, r.weight, r.critical) for r in rows] == [(a.pk, 1, 5.0, 1), (b.pk, 3, 3.0, 0)]
    assert rows[0].organizations == ["Acme"]
    by_segment = selectors.demand(viewer=world.admin, filters=selectors.DemandFilters(segment="Retail"))
    assert [r.idea.pk for r in by_segment] == [a.pk]
    by_role = selectors.demand(viewer=world.admin, filters=selectors.DemandFilters(role=Role.PARTNER))
    assert [(r.idea.pk, r.votes) for r in by_role] == [(b.pk, 1)]
    by_org = selectors.demand(viewer=world.admin, filters=selectors.DemandFilters(organization_id=world.globex.pk))
    assert [(r.idea.pk, r.votes) for r in by_org] == [(b.pk, 1)]
    with pytest.raises(ApplicationError):
        selectors.demand(viewer=world.acme_user, filters=selectors.DemandFilters())


def test_demand_filters_by_hot_group_and_private_account(
    world: World, public_board: Board, acme_board: Board, acme_space: Space
) -> None:
    from convenor.spaces.models import Frame, MembershipState, SpaceMembership, Visibility
    from convenor.spaces.services import space_create

    group = space_create(
        name="Pipelines hot group",
        frame=Frame.COMMUNITY,
        visibility=Visibility.GROUP,
        group_id=9001,
        creator=world.admin_member,
    )
    SpaceMembership.objects.create(space=group, member=world.globex_member, state=MembershipState.ACTIVE)
    SpaceMembership.objects.create(space=group, member=world.outsider_member, state=MembershipState.LEFT)
    shared = services.idea_create(board=public_board, author=world.admin_member, title="Shared wish")
    for m in (world.acme_member, world.globex_member, world.outsider_member):
        services.vote_cast(idea=shared, member=m)
    on_account = services.idea_create(board=acme_board, author=world.acme_member, title="Acme's own wish")
    services.vote_cast(idea=on_account, member=world.acme_member)
    raised = services.idea_create(board=public_board, author=world.acme_member, title="Raised in Acme's space")
    thread = Thread.objects.create(space=acme_space, title="Acme internal", author=world.acme_member)
    post = Post.objects.create(thread=thread, author=world.acme_member, body="x", html="<p>x</p>", text="x")
    services.idea_link_post(idea=raised, post=post, by=world.admin_member)
    services.vote_cast(idea=raised, member=world.globex_member)

    # The hot group: only the votes of its active members count.
    by_group = selectors.demand(viewer=world.admin, filters=selectors.DemandFilters(group_space_id=group.pk))
    assert sorted((r.idea.title, r.votes) for r in by_group) == [("Raised in Acme's space", 1), ("Shared wish", 1)]
    # The private account: ideas on its board or raised in its space, with all their votes.
    by_account = selectors.demand(viewer=world.admin, filters=selectors.DemandFilters(account_id=world.acme.pk))
    assert sorted((r.idea.title, r.votes) for r in by_account) == [
        ("Acme's own wish", 1),
        ("Raised in Acme's space", 1),
    ]
    assert all(r.idea.pk != shared.pk for r in by_account)
    assert selectors.account_choices(viewer=world.admin) == [(world.acme.pk, "Acme")]
    assert (group.pk, "Pipelines hot group") in selectors.group_spaces(viewer=world.admin)


def test_merging_a_private_idea_into_a_public_one_publishes_nothing_private(
    world: World, public_board: Board, acme_board: Board
) -> None:
    from django.test import Client

    private = services.idea_create(board=acme_board, author=world.acme_member, title="SSO for Acme's Okta tenant")
    services.vote_cast(idea=private, member=world.acme_member)
    services.comment_add(idea=private, author=world.acme_member, body="Our auditors flagged this in March")
    public = services.idea_create(board=public_board, author=world.globex_member, title="Single sign-on")
    services.comment_add(idea=public, author=world.globex_member, body="Please support SAML")
    services.idea_merge(source=private, target=public, by=world.admin)
    public.refresh_from_db()
    private.refresh_from_db()
    # The vote and follower carry over; the private comment stays on the private idea.
    assert (public.vote_count, public.comment_count) == (1, 1)
    assert private.comment_count == 1
    assert services.recount_all() == 0
    anonymous = Client().get(f"/ideas/{public.pk}/").content.decode()
    assert "Single sign-on" in anonymous and "Please support SAML" in anonymous
    assert "Okta" not in anonymous and "auditors" not in anonymous
    acme = Client()
    acme.force_login(world.acme_user)
    assert "Okta" in acme.get(f"/ideas/{public.pk}/").content.decode()  # Acme may read both
    assert "auditors" in acme.get(f"/ideas/{private.pk}/").content.decode()
    # Between boards read by the same people, comments move as before.
    twin = services.idea_create(board=public_board, author=world.acme_member, title="SSO please")
    services.comment_add(idea=twin, author=world.acme_member, body="Same here")
    services.idea_merge(source=twin, target=public, by=world.admin)
    public.refresh_from_db()
    assert public.comment_count == 2
