"""Hand-written signals of selling: prices, discounts, calls to action, tracking links.

They complement the n-gram features: a regular expression generalises over numbers,
currencies and word order ("book a 15-minute call", "grab a slot on my calendar") where
an n-gram model needs to have seen the exact words. Each signal is one feature (0 or 1)
so its learnt weight is readable, and its match is shown to people as a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse


@dataclass(frozen=True, slots=True)
class Signal:
    name: str  # shown to people: "call to action"
    pattern: re.Pattern[str]


def _re(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


SIGNALS: tuple[Signal, ...] = (
    Signal(
        "price or discount",
        _re(
            r"\b\d{1,2}\s?%\s?(?:off|discount)\b",
            r"\b(?:promo|discount|coupon|voucher)\s+code\b",
            r"\buse\s+(?:the\s+)?code\s+[A-Z0-9]{3,}\b",
            # An offer of a free trial, not a question about one ("how do you run a free trial?").
            r"\b(?:start|get|claim|grab|book|enjoy|try|request|with)\s+(?:your|a|our|an?\s+extra)?\s*"
            r"free\s+(?:\d+[- ]day\s+)?(?:trial|month|audit|consultation|assessment)\b",
            r"\bfree\s+(?:\d+[- ]day\s+)?(?:trial|month|audit|consultation|assessment)\s+"
            r"(?:today|now|here|for\s+new)\b",
            r"\b(?:only|just|from|starting at)\s+[$€£]\s?\d",
            r"[$€£]\s?\d[\d,.]*\s?(?:/|per\s)(?:mo|month|seat|user|year)\b",
        ),
    ),
    Signal(
        "urgency",
        _re(
            r"\b(?:this|today)\s+(?:week|weekend|month)?\s*only\b",
            r"\blimited[- ]time\b",
            r"\boffer\s+(?:ends|expires|valid)\b",
            r"\bends\s+(?:tonight|tomorrow|friday|sunday|soon|at midnight)\b",
            r"\b(?:only|just)\s+(?:a\s+few|\d+)\s+(?:spots|slots|seats|places|licen[cs]es)\s+(?:left|remaining)\b",
            r"\b(?:a\s+few|\d+)\s+(?:pilot|beta|onboarding|founding)\s+(?:slots|spots|places|seats)\b",
            r"\blast\s+chance\b",
            r"\bdon'?t\s+miss\s+out\b",
            r"\bbefore\s+(?:prices?\s+go\s+up|it'?s\s+gone)\b",
        ),
    ),
    Signal(
        "call to action",
        _re(
            r"\b(?:book|schedule|grab|request|claim)\s+(?:a|your|an?\s+intro|a\s+free|some)?\s*"
            r"(?:\d+[- ]min(?:ute)?s?\s+)?(?:demo|call|slot|meeting|chat|time|consultation|spot)\b",
            # Not when the same sentence says what is on offer is free ("DM me for the script, it's free").
            r"\b(?:dm|message|ping|pm)\s+me\b(?![^.!?\n]*\b(?:free|no charge|no strings|not selling|happy to share)\b)",
            r"\bdrop\s+(?:me|us)\s+an?\s+(?:dm|line|message|note|email)\b",
            r"\b(?:hop|jump)\s+on\s+a\s+(?:quick\s+)?call\b",
            r"\bcalendar\s+link\b",
            r"\blink\s+in\s+(?:my\s+)?bio\b",
            r"\bsign\s+up\s+(?:today|now|here)\b",
            r"\b(?:quick|short)\s+(?:\d+[- ]min(?:ute)?s?\s+)?(?:call|chat)\b",
            r"\b\d+\s+minutes\s+(?:next|this)\s+week\b",
            r"\bopen\s+to\s+a\s+(?:quick\s+)?(?:call|chat|conversation)\b",
        ),
    ),
    Signal(
        "tracking or referral link",
        _re(
            r"[?&](?:utm_[a-z]+|ref|aff|affiliate|via|coupon|partner)=",
            r"\b(?:bit\.ly|tinyurl\.com|lnkd\.in|rebrand\.ly)/",
            r"\breferral\s+(?:link|code)\b",
            r"\b(?:my|our)\s+affiliate\b",
            r"\bearn\s+(?:a\s+)?(?:commission|\d+%|[$€£])",
        ),
    ),
    Signal(
        "we offer",
        _re(
            r"\b(?:we|our\s+team|my\s+team|our\s+agency|our\s+firm)\s+(?:can\s+)?"
            r"(?:offer|provide|deliver|specialise|specialize|help\s+(?:companies|teams|brands|businesses))\b",
            r"\bour\s+(?:platform|solution|agency|services|consultancy|software|tool|product)\s+"
            r"(?:helps|lets|gives|can|will|is\s+built)\b",
            r"\bteams\s+like\s+yours\b",
            r"\bhappy\s+to\s+(?:share|show)\s+how\s+we\b",
        ),
    ),
    Signal(
        "cold outreach",
        _re(
            r"\bi\s+noticed\s+(?:that\s+)?(?:your|you)\b",
            r"\bi\s+saw\s+(?:that\s+)?your\s+(?:company|team|firm|business|practice|clinic|store|shop)\b",
            r"\bcame\s+across\s+your\b",
            r"\bare\s+you\s+the\s+right\s+person\b",
            r"\bwould\s+(?:it|you)\s+(?:make\s+sense|be\s+open)\b",
        ),
    ),
)

SIGNAL_NAMES: tuple[str, ...] = tuple(s.name for s in SIGNALS)


def signal_matches(text: str) -> list[tuple[str, str]]:
    """Every signal present in `text`, as ``(signal name, first matching text)``."""
    found = []
    for s in SIGNALS:
        m = s.pattern.search(text)
        if m:
            found.append((s.name, m.group(0).strip()))
    return found


class SignalFeatures:
    """A scikit-learn transformer: one 0/1 column per signal (stateless, so picklable)."""

    def fit(self, texts: Iterable[str], y: Any = None) -> SignalFeatures:
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        rows = np.zeros((len(texts), len(SIGNALS)), dtype=np.float64)
        for i, text in enumerate(texts):
            for j, s in enumerate(SIGNALS):
                if s.pattern.search(text):
                    rows[i, j] = 1.0
        return sparse.csr_matrix(rows)

    def fit_transform(self, texts: Sequence[str], y: Any = None) -> Any:
        return self.transform(texts)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        return np.array(SIGNAL_NAMES, dtype=object)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> SignalFeatures:
        return self
