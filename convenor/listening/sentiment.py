"""Sentiment with VADER (offline, lexicon-based): the compound score in [-1, 1]."""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

MAX_CHARS = 5000  # VADER's cost grows with length; the opening says enough


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def score(text: str) -> float:
    if not text.strip():
        return 0.0
    return round(float(_analyzer().polarity_scores(text[:MAX_CHARS])["compound"]), 4)
