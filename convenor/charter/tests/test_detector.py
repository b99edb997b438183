"""The detector: what it flags, what it leaves alone, its reasons, and its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convenor.charter import detector
from convenor.charter.detector import InvalidText, Model, ModelUnavailable, score
from convenor.core.errors import ApplicationError, ErrorCode

# Written for these tests; none of them is in the corpus files.
PITCHES = [
    "MEGA SALE!!! 40% off all yoga mats until Sunday, use code STRETCH40",
    "We help veterinary clinics get more bookings. Drop me a DM for our rate card.",
    "Happy to share how we helped teams like yours cut cloud bills. My calendar link is in bio.",
    "We have a few pilot slots left for bakeries that want to automate ordering, reply if interested.",
    "Hi Tom, I noticed your firm is expanding into Germany. Open to a quick 15 minute call next week?",
    "Get your first month free with my referral link: https://app.example.com/signup?ref=tom42",
    "Join our free webinar on payroll compliance, every attendee gets 30% off our payroll software!",
    "Our agency builds high-converting landing pages for dentists. Book a call to see our portfolio.",
    "Comparing us to the big CRM vendors? We're half the price with better support. Start your free trial today.",
    "Looking for resellers for our water filters, earn 25% commission on every sale.",
    "Our consultancy offers fixed-price ISO 27001 readiness projects, message me for a quote.",
    "Spring special at our hotel: stay three nights and the fourth is free, book by Friday!",
    "Still reconciling invoices by hand? Our platform does it automatically. Request a demo at ledgerpro.example/demo",
    "Selling handmade ceramic mugs, £15 each or 4 for £50, order via the link in my profile",
    # Quieter pitches, added with the second round of corpus material.
    (
        "Hi Fatima, we've been helping a few pharmacy chains like yours with stock counts. "
        "Could I send over a short case study?"
    ),
    (
        "I've opened up two spots for new bookkeeping clients in January, fixed monthly fee. "
        "Message me if you'd like details."
    ),
    (
        "Great thread! Full disclosure, I'm a co-founder at Tallyhoo and we solve exactly this. "
        "Happy to give you a free account."
    ),
    "Comment 'ROTA' and I'll send you the template our paying customers use for staff scheduling.",
    (
        "Free 30-minute strategy session for the first five café owners who reply, "
        "after that it's our usual consulting rate."
    ),
]
COMMUNITY = [
    "Does anyone know if the student licence can be used for a commercial side project?",
    "We compared Trello and Jira for our six-person team. Trello was simpler, Jira had better reports; we kept Trello.",
    "Fixed in 2.3.1: the calendar export no longer drops events after midnight. Thanks for the reports!",
    "The Ghent user group meets next Wednesday at 7pm, free entry, talks on barcode scanning and pizza after.",
    "The setup guide for the printer integration is here: https://docs.example.com/printers",
    "How do I change the default currency on invoices? Can't find the setting anywhere.",
    "Bug: the search box returns nothing when the query contains an ampersand.",
    "Thanks @maria for the tip about the bulk editor, saved me an afternoon.",
    "Some news: I've moved to a new role in procurement at a hospital trust. Still around here!",
    "Not affiliated, but we've used Metabase for two years and it does the job for our reporting.",
    "I wrote a free script that cleans up the supplier export, MIT licence, link in the thread.",
    "Can anyone recommend a good payroll provider for a 30-person restaurant group?",
    "What does everyone pay for the enterprise tier? Our quote seems high.",
    "Is the 15% charity discount still available when renewing, or only for new accounts?",
    "The recording of yesterday's community call is on the docs site for anyone who missed it.",
    "Our maintenance window is Sunday 2am; the dashboard will be read-only for about ten minutes.",
    # Harder ones, added with the second round of corpus material.
    "How do you all run a free trial for a B2B product without people abusing it?",
    "Message me if you want the Excel sheet we use for rota planning, it's free, just has our staff names in.",
    "I work at the vendor, answering as a user: the export limit is 10,000 rows, the docs page on limits explains it.",
    "We're hiring a warehouse supervisor in Leicester, pay is £32k. Ask me anything about the team, I'm the manager.",
    "Paid £240 for our plumber to replace the valve. Fair price or should I have shopped around?",
    "The Sheffield data meetup is on the 9th, free pizza, please RSVP on the events page so we know numbers.",
]


def test_flags_loud_and_subtle_pitches(charter_model: Model) -> None:
    # The targets are rates, and the operating point puts precision first (recall 0.85-0.94
    # on the measured sets, docs/charter.md): at most two of these fifteen may slip through.
    missed = [(round(r.probability, 2), t) for t in PITCHES if not (r := score(t)).promotional]
    assert len(missed) <= 2, missed


def test_leaves_hard_negatives_alone(charter_model: Model) -> None:
    # Holding an honest post is the worse error: none of these may be held.
    held = [(round(r.probability, 2), t) for t in COMMUNITY if (r := score(t)).promotional]
    assert not held, held


def test_reasons_are_phrases_present_in_the_text(charter_model: Model) -> None:
    text = "We have a few pilot slots left — drop me a DM for our rate card, or book a call: https://x.example/?utm_source=forum"
    result = score(text)
    assert result.promotional and result.reasons
    for reason in result.reasons:
        assert reason.phrase in text
        assert reason.weight > 0
    kinds = {r.kind for r in result.reasons}
    assert "signal" in kinds
    assert any(r.describe().startswith("call to action: '") for r in result.reasons)


def test_scores_are_probabilities_and_thresholds_apply(charter_model: Model) -> None:
    result = score("Does the free tier include the API?")
    assert 0.0 <= result.probability <= 1.0
    assert score("Does the free tier include the API?", threshold=0.0).promotional
    assert not score("50% off this week only, book a demo!", threshold=1.01).promotional


def test_training_is_deterministic(tmp_path: Path) -> None:
    rows = [
        ("Book a demo of our tool today, 20% off", "promotional"),
        ("DM me for our rate card", "promotional"),
        ("Use my referral link for a free month", "promotional"),
        ("We have a few pilot slots left", "promotional"),
        ("How do I export my invoices?", "community"),
        ("Thanks for the help with the export", "community"),
        ("The meetup is on Thursday at 6pm", "community"),
        ("Fixed in 1.2: the export bug", "community"),
    ] * 2
    examples = [detector.Example(text=f"{t} {i % 3}", label=label) for i, (t, label) in enumerate(rows)]
    a = detector.train_examples(examples)
    b = detector.train_examples(list(reversed(examples)))
    assert a.digest == b.digest
    assert np.array_equal(a.coef, b.coef) and a.intercept == b.intercept
    a.save(tmp_path / "a.joblib")
    loaded = Model.load(tmp_path / "a.joblib")
    assert np.array_equal(loaded.coef, a.coef) and loaded.digest == a.digest
    assert loaded.score("DM me for the rate card").probability == a.score("DM me for the rate card").probability


def test_missing_model_file_says_how_to_rebuild(tmp_path: Path, settings: Any) -> None:
    settings.CHARTER_MODEL_PATH = tmp_path / "nope.joblib"
    detector.reset_cache()
    with pytest.raises(ModelUnavailable, match=r"run `convenor charter train`"):
        score("hello there")
    detector.reset_cache()


@pytest.mark.parametrize("content", [b"", b"not a joblib file at all", b"\x80\x04\x95garbage"])
def test_corrupt_model_file_says_how_to_rebuild(tmp_path: Path, settings: Any, content: bytes) -> None:
    path = tmp_path / "charter-model.joblib"
    path.write_bytes(content)
    settings.CHARTER_MODEL_PATH = path
    detector.reset_cache()
    with pytest.raises(ModelUnavailable, match=r"corrupt.*run `convenor charter train`"):
        score("hello there")
    detector.reset_cache()


def test_model_from_another_format_is_refused(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "old.joblib"
    joblib.dump({"format": 0}, path)
    with pytest.raises(ModelUnavailable, match="another version"):
        Model.load(path)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", ErrorCode.VALIDATION),
        ("   \n\t ", ErrorCode.VALIDATION),
        ("x" * (detector.MAX_TEXT_CHARS + 1), ErrorCode.TOO_LARGE),
        (None, ErrorCode.VALIDATION),
        (b"bytes are not text", ErrorCode.VALIDATION),
        (42, ErrorCode.VALIDATION),
    ],
)
def test_bad_input_is_a_clear_error(charter_model: Model, text: object, code: ErrorCode) -> None:
    with pytest.raises(InvalidText) as caught:
        score(text)
    assert isinstance(caught.value, ApplicationError) and isinstance(caught.value, ValueError)
    assert caught.value.code == code
    assert "text" in caught.value.message


def test_longest_allowed_text_is_scored(charter_model: Model) -> None:
    text = ("Thanks for the help with the export. " * 600)[: detector.MAX_TEXT_CHARS]
    assert not score(text).promotional


def test_read_jsonl_reports_bad_lines_by_number(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"text": "ok", "label": "community"}\n'
        "not json\n"
        '{"text": "", "label": "community"}\n'
        '{"text": "hi", "label": "spam"}\n'
        "[1, 2]\n"
    )
    examples, problems = detector.read_jsonl(path, skip_bad=True)
    assert [e.text for e in examples] == ["ok"]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5"]
    with pytest.raises(detector.CorpusError, match="4 bad line"):
        detector.read_jsonl(path)
