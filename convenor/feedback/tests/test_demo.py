"""The demo's feedback: boards of each visibility, ideas in every status, votes weighted
toward a few ideas, linked posts, a changelog, and activities as the services record them."""

from __future__ import annotations

import pytest

from convenor.activity.models import Activity, Verb
from convenor.feedback.demo import idea_count
from convenor.feedback.models import Board, Idea, IdeaSource, IdeaStatus, StatusChange, Vote
from convenor.feedback.services import recount_all
from convenor.people.demo import build_demo

pytestmark = pytest.mark.django_db

SIZE = 300


def test_demo_builds_a_realistic_mix() -> None:
    result = build_demo(members=SIZE, seed=1)
    counts = result.extras["feedback"]
    assert counts["ideas"] == idea_count(SIZE) == Idea.objects.count()
    assert {b.visibility for b in Board.objects.all()} >= {"public", "members"}
    assert set(Idea.objects.values_list("status", flat=True)) == set(IdeaStatus.values)
    votes = sorted(Idea.objects.values_list("vote_count", flat=True), reverse=True)
    assert sum(votes) == Vote.objects.count() == Activity.objects.filter(verb=Verb.VOTED).count()
    assert sum(votes[:5]) > sum(votes) * 0.3  # a few ideas draw most votes
    assert recount_all() == 0  # counters exact as built
    assert IdeaSource.objects.filter(post__isnull=False).exists()
    linked = IdeaSource.objects.select_related("idea", "post").first()
    assert linked is not None and linked.post is not None
    shipped = Idea.objects.filter(status=IdeaStatus.SHIPPED)
    assert shipped.exists() and all(i.changelog_note and i.shipped_at for i in shipped)
    assert StatusChange.objects.filter(to_status=IdeaStatus.SHIPPED).count() == shipped.count()
    assert Activity.objects.filter(verb=Verb.SUBMITTED_IDEA).count() == Idea.objects.count()
    private = Board.objects.filter(visibility="account").first()
    if private is not None:
        from convenor.people.models import Affiliation

        at_org = set(
            Affiliation.objects.filter(organization=private.organization, ended_on__isnull=True).values_list(
                "member_id", flat=True
            )
        )
        assert set(Vote.objects.filter(idea__board=private).values_list("member_id", flat=True)) <= at_org
