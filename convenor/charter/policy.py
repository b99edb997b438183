"""The charter's policy: whether a text may be published in a community space.

One scoring function for posts and for community events (the events hook is wired to it in
``CharterConfig.ready``). A text over the threshold is held; so is every text when the
detector is unavailable, because a post is never published unchecked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convenor.charter import detector

if TYPE_CHECKING:
    from convenor.events.charter import CharterVerdict

log = logging.getLogger(__name__)

UNAVAILABLE_REASON = "the charter check is unavailable; a moderator will review it"
# Below this many words the model has too little to go on ("first post" scores 0.85 on the
# words alone): such a text is held only when a named selling signal (a price, a call to
# action, a tracking link...) matches in it. Holding an honest post is the worse error.
MIN_WORDS = 5
_WORD_RE = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the charter says about one text."""

    held: bool
    threshold: float
    score: float | None = None  # None when the detector is unavailable
    # Each reason: {"phrase", "weight", "kind", "signal", "describe"}, strongest first.
    reasons: list[dict[str, Any]] = field(default_factory=list)
    unavailable: bool = False


def check(text: str, *, threshold: float = detector.DEFAULT_THRESHOLD) -> Verdict:
    """Score `text`; held when its probability is over `threshold` or the detector is unavailable."""
    if not text.strip():
        return Verdict(held=False, threshold=threshold)
    try:
        result = detector.score(text[: detector.MAX_TEXT_CHARS], threshold=threshold)
    except detector.ModelUnavailable as err:
        log.error("charter check unavailable, holding the text for review: %s", err)
        return Verdict(held=True, threshold=threshold, unavailable=True)
    except detector.InvalidText:
        return Verdict(held=False, threshold=threshold)
    reasons = [{**r.as_dict(), "describe": r.describe()} for r in result.reasons]
    held = result.probability > threshold
    if held and len(_WORD_RE.findall(text)) < MIN_WORDS:
        held = any(r.kind == "signal" for r in result.reasons)
    return Verdict(
        held=held,
        threshold=threshold,
        score=round(result.probability, 4),
        reasons=reasons,
    )


def event_policy(text: str) -> CharterVerdict:
    """The events hook (convenor/events/charter.py) on the same scoring function.

    Events keep their own rule for an unavailable detector: published and marked unchecked,
    so that ``event_recheck`` checks it later.
    """
    from convenor.events.charter import CharterVerdict
    from convenor.events.models import CheckState

    verdict = check(text)
    if verdict.unavailable:
        return CharterVerdict(state=CheckState.UNCHECKED)
    state = CheckState.HELD if verdict.held else CheckState.OK
    return CharterVerdict(state=state, score=verdict.score, reasons=verdict.reasons)
