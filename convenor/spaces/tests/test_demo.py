"""The demo conversations (convenor/spaces/demo.py), checked through the public interfaces."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.db.models import Count, F, Q
from django.urls import reverse

from convenor.activity.models import NATIVE_SOURCE, Activity, Verb
from convenor.core import access
from convenor.core.models import User
from convenor.people.demo import DemoResult, build_demo
from convenor.people.models import Affiliation, Member, Relationship, Role
from convenor.spaces import demo_phrases as ph
from convenor.spaces import markdown
from convenor.spaces.models import (
    Frame,
    MembershipState,
    Mention,
    Post,
    Reaction,
    Space,
    SpaceMembership,
    SpaceRole,
    Thread,
    Visibility,
)
from convenor.spaces.search import search_posts
from convenor.spaces.services import space_recount, thread_recount

pytestmark = pytest.mark.django_db

SIZE = 400


@pytest.fixture
def demo(db: None) -> DemoResult:
    return build_demo(members=SIZE, seed=1, steps=False)


def _customer_users() -> list[User]:
    users = User.objects.filter(member__role=Role.CUSTOMER).select_related("member").order_by("email")
    return list(users)


def test_spaces_of_both_frames_and_private_account_spaces(demo: DemoResult) -> None:
    frames = set(Space.objects.values_list("frame", flat=True))
    assert frames == {Frame.COMMUNITY, Frame.COMMERCIAL}
    assert {Visibility.PUBLIC, Visibility.MEMBERS, Visibility.ACCOUNT} <= set(
        Space.objects.values_list("visibility", flat=True)
    )
    accounts = list(Space.objects.filter(visibility=Visibility.ACCOUNT).select_related("organization"))
    assert len(accounts) >= 2
    for space in accounts:
        people = set(
            Affiliation.objects.filter(organization=space.organization, ended_on=None).values_list("member", flat=True)
        )
        active = set(
            SpaceMembership.objects.filter(space=space, state=MembershipState.ACTIVE).values_list("member", flat=True)
        )
        assert people <= active
        moderators = SpaceMembership.objects.filter(space=space, role=SpaceRole.MODERATOR)
        assert moderators.count() >= 1
        assert all(m.member.role == Role.EMPLOYEE for m in moderators.select_related("member"))
        # Nobody else posts there.
        outsiders = Post.objects.filter(thread__space=space).exclude(author__in=active)
        assert not outsiders.exists()
    assert demo.conversations["posts"] == Post.objects.count() > SIZE / 2


def test_account_spaces_are_invisible_to_other_organisations(demo: DemoResult) -> None:
    users = _customer_users()
    assert len(users) == 2
    own = {
        u.pk: Space.objects.get(visibility=Visibility.ACCOUNT, organization__affiliations__member=u.member)
        for u in users
    }
    for user in users:
        visible = set(access.visible_spaces(user).values_list("pk", flat=True))
        others = {s.pk for uid, s in own.items() if uid != user.pk}
        assert own[user.pk].pk in visible
        assert not visible & others
        # Search never returns a post from the other account's space.
        word = Post.objects.filter(thread__space__in=others).values_list("text", flat=True).first()
        assert word
        page = search_posts(viewer=user, q=word.split()[1], page_size=100)
        assert not {h.space_id for h in page.hits} & others


def test_replies_favour_related_people(demo: DemoResult) -> None:
    replies = list(
        Activity.objects.filter(verb=Verb.REPLIED, target_member__isnull=False).values_list(
            "actor_id", "target_member_id"
        )
    )
    assert len(replies) > 100
    org = dict(Affiliation.objects.filter(ended_on=None).values_list("member_id", "organization_id"))
    ties = set(
        Relationship.objects.filter(source_member__isnull=False, target_member__isnull=False).values_list(
            "source_member_id", "target_member_id"
        )
    )

    def related(a: int, b: int) -> bool:
        return (a, b) in ties or (b, a) in ties or org.get(a) == org.get(b)

    actors = [a for a, _ in replies]
    targets = [b for _, b in replies]
    observed = sum(related(a, b) for a, b in replies) / len(replies)
    shuffled = np.random.default_rng(0).permutation(targets).tolist()
    chance = sum(related(a, b) for a, b in zip(actors, shuffled, strict=True)) / len(replies)
    assert observed > 2 * chance
    assert observed > 0.25


def opening_posts() -> list[int]:
    first: dict[int, int] = {}
    for pk, thread in Post.objects.order_by("-created_at", "-pk").values_list("pk", "thread_id"):
        first[thread] = pk
    return list(first.values())


def test_customers_answer_customers(demo: DemoResult) -> None:
    org = dict(Affiliation.objects.filter(ended_on=None).values_list("member_id", "organization_id"))
    cross = [
        (a, b)
        for a, b in Post.objects.filter(author__role=Role.CUSTOMER, thread__author__role=Role.CUSTOMER)
        .exclude(thread__space__visibility=Visibility.ACCOUNT)
        .exclude(author=F("thread__author"))
        .values_list("author_id", "thread__author_id")
        if org[a] != org[b]
    ]
    # Outside the account spaces, where everyone but the staff is from the same organisation.
    shared = Q(thread__author__role=Role.CUSTOMER) & ~Q(thread__space__visibility=Visibility.ACCOUNT)
    replies_in_customer_threads = Post.objects.filter(shared).exclude(pk__in=opening_posts()).count()
    assert len(cross) > 0.2 * replies_in_customer_threads


def test_pitches_are_a_small_share_of_community_posts(demo: DemoResult) -> None:
    def is_pitch(q: str) -> Q:
        return Q(body__contains=q)

    any_marker = Q()
    for marker in ph.PITCH_MARKERS:
        any_marker |= is_pitch(marker)
    community = Post.objects.filter(thread__space__frame=Frame.COMMUNITY)
    share = community.filter(any_marker).count() / community.count()
    assert 0.015 <= share <= 0.08
    assert Post.objects.filter(thread__space__frame=Frame.COMMERCIAL).exists()
    # Only the pitch templates carry a marker, so the charter work can find them all.
    honest = [
        t
        for bank in (ph.REPLIES, ph.CUSTOMER_ANSWERS, ph.STAFF_ANSWERS, ph.QUESTION_INTROS, ph.DETAILS, ph.OFFER_BODIES)
        for t in bank
    ]
    assert not [t for t in honest if any(m in t for m in ph.PITCH_MARKERS)]
    assert all(any(m in t for m in ph.PITCH_MARKERS) for t in ph.PITCH_LOUD + ph.PITCH_SUBTLE)


def test_counters_agree_with_the_recount_services(demo: DemoResult) -> None:
    for space in Space.objects.all():
        counts = (space.thread_count, space.post_count)
        recounted = space_recount(space=space)
        assert counts == (recounted.thread_count, recounted.post_count)
    sample = list(Thread.objects.order_by("?")[:40]) + list(Thread.objects.order_by("-reply_count")[:5])
    for thread in sample:
        before = (thread.reply_count, thread.staff_reply_count, thread.reaction_count, thread.last_post_at)
        after = thread_recount(thread=thread)
        assert before == (after.reply_count, after.staff_reply_count, after.reaction_count, before[3])
        assert thread.last_post_at == Post.objects.filter(thread=thread).order_by("-created_at")[0].created_at
    totals = Post.objects.aggregate(reactions=Count("reactions"))
    assert totals["reactions"] == Reaction.objects.count()
    assert Thread.objects.filter(pinned=True).exists()
    assert Thread.objects.filter(accepted_post__isnull=False).exists()
    assert not Thread.objects.filter(accepted_post__isnull=False).exclude(accepted_post__thread=F("pk")).exists()


def test_html_and_text_are_what_render_produces(demo: DemoResult) -> None:
    posts = list(Post.objects.order_by("?")[:60]) + [m.post for m in Mention.objects.select_related("post")[:20]]
    assert Mention.objects.exists()
    for post in posts:
        urls = {
            m.member.handle: reverse("web:member_detail", args=[m.member_id])
            for m in Mention.objects.filter(post=post).select_related("member")
            if m.member.handle
        }
        assert post.html == markdown.render(post.body, mention_urls=urls)
        assert post.text == markdown.plain_text(post.html)
        assert post.by_staff == (post.author.role == Role.EMPLOYEE)
    assert "<script" not in "".join(Post.objects.values_list("html", flat=True))


def test_search_finds_demo_posts(demo: DemoResult) -> None:
    admin = User.objects.get(email="admin@northwind.example")
    page = search_posts(viewer=admin, q="batches")
    assert page.total > 0 and page.hits
    assert "<mark>" in page.hits[0].snippet_html


def test_activities_are_recorded_as_the_services_do(demo: DemoResult) -> None:
    acts = Activity.objects.filter(source=NATIVE_SOURCE)
    threads, posts = Thread.objects.count(), Post.objects.count()
    assert acts.filter(verb=Verb.POSTED).count() == threads
    assert acts.filter(verb=Verb.REPLIED).count() == posts - threads
    assert acts.filter(verb=Verb.MENTIONED).count() == Mention.objects.count()
    assert acts.filter(verb=Verb.REACTED).count() == Reaction.objects.exclude(member=F("post__author")).count()
    assert acts.filter(verb=Verb.ANSWER_ACCEPTED).count() == Thread.objects.exclude(accepted_post=None).count()
    assert acts.filter(verb=Verb.JOINED_SPACE).count() == SpaceMembership.objects.count()
    # Besides the conversations, only the events (convenor/events/demo.py) record native activities.
    assert not acts.exclude(place_kind__in=["space", "event"]).exists()
    # A reply names the author it answers: of its parent, or of the opening post.
    for act in acts.filter(verb=Verb.REPLIED).order_by("?")[:50]:
        assert act.object_id is not None
        post = Post.objects.select_related("thread").get(pk=act.object_id)
        assert act.origin_id == f"post:{post.pk}"
        assert act.place_id == post.thread.space_id
        assert act.data["thread"] == post.thread_id
        replied = Post.objects.get(pk=act.data["parent"])
        if post.parent_id is not None:
            assert replied.pk == post.parent_id
        else:
            assert replied == Post.objects.filter(thread=post.thread).order_by("created_at", "pk").first()
        expected = replied.author_id if replied.author_id != post.author_id else None
        assert act.target_member_id == expected
        assert act.occurred_at == post.created_at
    for act in acts.filter(verb=Verb.REACTED)[:20]:
        post_id, member_id, kind = act.origin_id.split(":")[1:]
        assert act.place_id is not None
        assert Reaction.objects.filter(post_id=int(post_id), member_id=int(member_id), kind=kind).exists()
        assert act.data == {"kind": kind}
        assert act.target_member_id == Post.objects.get(pk=int(post_id)).author_id
    for act in acts.filter(verb=Verb.ANSWER_ACCEPTED):
        accepted_ids = [int(x) for x in act.origin_id.split(":")[1:]]
        thread = Thread.objects.get(pk=accepted_ids[0])
        assert thread.accepted_post_id == accepted_ids[1] and act.actor_id == thread.author_id
    for act in acts.filter(verb=Verb.JOINED_SPACE)[:20]:
        assert act.place_id is not None
        m = SpaceMembership.objects.get(space_id=act.place_id, member_id=act.actor_id)
        assert act.origin_id == f"space-join:{m.space_id}:{m.member_id}:{m.joined_at:%Y%m%d%H%M%S%f}"
    assert json.loads(json.dumps(acts.filter(verb=Verb.POSTED).first().data)) == {}  # type: ignore[union-attr]  # there are posts
    # Replies by staff carry the badge; the people demo's own activity is still there.
    assert Post.objects.filter(by_staff=True).exists()
    assert Member.objects.filter(role=Role.EMPLOYEE, posts__isnull=False).exists()


def test_every_template_renders_the_same_with_stand_ins() -> None:
    """The demo renders each phrase template once with stand-ins for its words, then puts the
    words in: the same HTML as rendering the filled-in text, for every template and term."""
    from convenor.spaces.demo import _BODY_BANKS, _fmt, _paragraph, _paragraph_html

    templates = {t for banks in _BODY_BANKS.values() for bank in banks for t in bank}
    for topic, terms in ph.TERMS.items():
        for term in terms:
            for template in templates:
                filled = _fmt(template, topic, term)
                assert _paragraph_html(template, topic, term) == _paragraph(filled), (template, topic, term)


def test_search_index_holds_every_post_and_the_trigger_is_back(demo: DemoResult) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table is SQLite's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM spaces_post p JOIN spaces_thread t ON t.id = p.thread_id "
            "JOIN spaces_post_fts f ON f.rowid = p.id WHERE f.title = t.title AND f.body = p.text"
        )
        assert cursor.fetchone()[0] == Post.objects.count()
        cursor.execute("SELECT COUNT(*) FROM spaces_post_fts")
        assert cursor.fetchone()[0] == Post.objects.count()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'spaces_post'")
        assert {"spaces_post_fts_ai", "spaces_post_fts_au", "spaces_post_fts_ad"} <= {r[0] for r in cursor.fetchall()}
