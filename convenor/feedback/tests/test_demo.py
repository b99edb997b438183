"""The demo's feedback: boards of each visibility, ideas in every status, votes weighted
toward a few ideas, linked posts, a changelog, and activities as the services record them."""

from __future__ import annotations

import pytest

from convenor.activity.models import Activity, Verb
from convenor.core.models import User
from convenor.feedback import selectors
from convenor.feedback.demo import idea_count
from convenor.feedback.models import Board, Idea, IdeaSource, IdeaStatus, SourceKind, StatusChange, Vote
from convenor.feedback.services import recount_all
from convenor.listening.models import Source
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
    # Outside demand: imported posts linked to ideas, crediting their authors, named in the demand view.
    outside = IdeaSource.objects.filter(kind=SourceKind.ACTIVITY).select_related("activity")
    assert outside.count() == result.extras["feedback_outside"]["linked_outside_posts"] > 0
    assert all(s.activity is not None and s.activity.object_kind == "outside_post" and s.excerpt for s in outside)
    assert all(s.author_id == s.activity.actor_id for s in outside if s.activity is not None)
    admin = User.objects.filter(staff_role="admin").first()
    assert admin is not None
    rows = selectors.demand(viewer=admin, filters=selectors.DemandFilters(), limit=500)
    sources = set(Source.objects.values_list("name", flat=True))
    assert any(r.conduits for r in rows) and all(set(r.conduits) <= sources for r in rows)
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
