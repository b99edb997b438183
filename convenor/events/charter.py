"""The charter check of community events' descriptions, behind one replaceable hook.

A community event is held to the community charter (no selling). Until the charter
issue's posting policy lands, the default policy scores the description with the
promotional-content detector (:mod:`convenor.charter.detector`):

* over the threshold: the event is saved but **held** (not published) and the organiser
  sees the reasons;
* detector unavailable (no model file): the event is published and marked **unchecked**,
  so that ``event_recheck`` can check it later;
* otherwise: **ok**.

The charter's policy replaces the default with :func:`set_policy` (for example to use a
per-space threshold or to send held events to the moderation queue). Commercial events are
never checked: they are allowed to sell, and their brief says what they sell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convenor.events.models import CheckState


@dataclass(frozen=True)
class CharterVerdict:
    """What the check says about one description."""

    state: str  # a CheckState value
    score: float | None = None
    # Each reason: {"phrase", "weight", "kind", "signal", "describe"}, strongest first.
    reasons: list[dict[str, Any]] = field(default_factory=list)


Policy = Callable[[str], CharterVerdict]


def detector_policy(text: str) -> CharterVerdict:
    """The default policy: the shipped detector at its default threshold."""
    from convenor.charter import detector

    if not text.strip():
        return CharterVerdict(state=CheckState.OK)
    try:
        result = detector.score(text[: detector.MAX_TEXT_CHARS])
    except detector.ModelUnavailable:
        return CharterVerdict(state=CheckState.UNCHECKED)
    except detector.InvalidText:
        return CharterVerdict(state=CheckState.OK)
    reasons = [{**r.as_dict(), "describe": r.describe()} for r in result.reasons]
    state = CheckState.HELD if result.promotional else CheckState.OK
    return CharterVerdict(state=state, score=round(result.probability, 4), reasons=reasons)


_policy: Policy = detector_policy


def set_policy(policy: Policy) -> Policy:
    """Replace the check; returns the previous one (so tests and the charter app can restore it)."""
    global _policy
    previous, _policy = _policy, policy
    return previous


def check_description(text: str) -> CharterVerdict:
    """Run the current policy on a community event's description."""
    return _policy(text)
