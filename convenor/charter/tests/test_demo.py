"""The charter's demo step: pitches posted through the real check, held with reasons, some decided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from convenor.charter import detector, selectors
from convenor.people.demo import build_demo
from convenor.spaces.models import CharterCheck, Decision, ModerationDecision, Post, PostState

pytestmark = pytest.mark.django_db


def test_demo_holds_pitches_with_reasons_and_decides_some(charter_model: detector.Model) -> None:
    result = build_demo(members=300, seed=1)
    counts = result.extras["charter"]
    assert counts["posted"] == 12 and counts["held"] >= 4, counts
    checks = CharterCheck.objects.select_related("post")
    assert checks.count() == counts["held"]
    # Real scores and reasons from the model, never a placeholder.
    assert all(c.score is not None and c.score >= c.threshold and c.reasons for c in checks)
    decided = dict(ModerationDecision.objects.values_list("decision", "post__state"))
    assert decided.get(Decision.REJECT) == PostState.REJECTED
    assert counts["rejected"] + counts["approved"] == ModerationDecision.objects.count()
    # Something waits in the queue; the leakage report has figures.
    assert Post.objects.filter(state=PostState.HELD).exists()
    assert selectors.false_positive_rate().value is not None
    assert "charter:" in result.summary()


def test_demo_without_a_model_holds_every_post_unchecked(settings: Any, tmp_path: Path) -> None:
    settings.CHARTER_MODEL_PATH = tmp_path / "missing.joblib"
    detector.reset_cache()
    try:
        counts = build_demo(members=300, seed=1).extras["charter"]
    finally:
        detector.reset_cache()
    assert counts["held"] == counts["posted"] == 12
    assert not CharterCheck.objects.exclude(unavailable=True).exists()
