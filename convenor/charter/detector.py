"""The promotional-content detector: train it, save and load it, score a text with reasons.

The model is a logistic regression over three feature sets joined side by side:

* word 1-2-grams (TF-IDF, sublinear tf): readable phrases such as "rate card";
* character 2-5-grams inside words (TF-IDF, sublinear tf): robust to typos, plurals,
  lowercase shouting and words the corpus never had ("demo'ing", "pricing-sheet");
* the named signals of :mod:`convenor.charter.signals` (prices, calls to action...).

A linear model is chosen on purpose: each feature's contribution to a score is
``coefficient * value``, so the reasons shown to people are exactly what drove the score,
and scoring one post is a sparse dot product (well under a millisecond).

Contract for the posting policy (built on top of this module)::

    from convenor.charter.detector import ModelUnavailable, score
    try:
        result = score(text, threshold=space.charter_threshold)
    except ModelUnavailable:
        ...  # hold the post for review rather than publish it unchecked
    if result.promotional:
        ...  # hold it; show result.reasons (Reason.describe()) to the author

``score`` raises :class:`InvalidText` (an ``ApplicationError`` and a ``ValueError``) for
empty, too long or non-text input, and :class:`ModelUnavailable` when the model file is
missing or corrupt. Everything else is deterministic: the same corpus gives the same model.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
import sklearn
from django.conf import settings
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from convenor.charter.signals import SignalFeatures, signal_matches
from convenor.core.errors import ApplicationError, ErrorCode

FORMAT_VERSION = 1
# The same limit as a post (convenor.spaces.services.MAX_POST_CHARS); an event description
# or a reply is never longer, and a bound keeps scoring time bounded.
MAX_TEXT_CHARS = 20_000
DEFAULT_THRESHOLD = 0.5
LABELS = ("promotional", "community")
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
REBUILD_HINT = "run `convenor charter train`"

# Regularisation strength, chosen on a split of the training corpus (never on heldout.jsonl
# or the independent sets). Balanced class weights: the corpus is not 50/50.
_C = 8.0
# The operating point: holding an honest post is the worse error, so the decision boundary
# (probability 0.5) is moved, never below the balanced one, until at most this share of the
# community texts of a validation split carved from the *training* corpus is held.
TARGET_VALIDATION_FPR = 0.03

Kind = Literal["signal", "phrase"]


class InvalidText(ApplicationError, ValueError):
    """The text cannot be scored: empty, too long, or not text at all."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.VALIDATION) -> None:
        super().__init__(code, message, fields={"text": [message]})


class ModelUnavailable(ApplicationError):
    """The model file is missing, corrupt or from another version of Convenor."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INTERNAL, f"{message}; {REBUILD_HINT} to build it")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str  # "promotional" | "community"
    source: str = ""

    @property
    def y(self) -> int:
        return 1 if self.label == "promotional" else 0


@dataclass(frozen=True, slots=True)
class Reason:
    """One thing in the text that pushed the score towards "promotional".

    `phrase` is the text as written (a substring of the scored text); `weight` is its
    contribution to the log-odds; `kind` is "signal" (a named pattern, `signal` names it)
    or "phrase" (words the model learnt from the corpus).
    """

    phrase: str
    weight: float
    kind: Kind
    signal: str = ""

    def describe(self) -> str:
        return f"{self.signal}: '{self.phrase}'" if self.kind == "signal" else f"'{self.phrase}'"

    def as_dict(self) -> dict[str, object]:
        return {"phrase": self.phrase, "weight": round(self.weight, 4), "kind": self.kind, "signal": self.signal}


@dataclass(frozen=True, slots=True)
class Score:
    probability: float
    promotional: bool
    threshold: float
    reasons: list[Reason] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "probability": round(self.probability, 4),
            "promotional": self.promotional,
            "threshold": self.threshold,
            "reasons": [r.as_dict() for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Metrics:
    n: int
    precision: float
    recall: float
    f1: float
    false_positive_rate: float

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "false_positive_rate": round(self.false_positive_rate, 4),
        }


def check_text(text: object) -> str:
    """Return `text` when it can be scored; raise :class:`InvalidText` otherwise."""
    if not isinstance(text, str):
        raise InvalidText(f"text must be a string, not {type(text).__name__}")
    if not text.strip():
        raise InvalidText("text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidText(
            f"text is {len(text):,} characters; at most {MAX_TEXT_CHARS:,} can be scored", ErrorCode.TOO_LARGE
        )
    return text


# -- the corpus ---------------------------------------------------------------------------


class CorpusError(ApplicationError):
    """A corpus or evaluation file has bad lines; `problems` lists them by line number."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        shown = "\n".join(problems[:20]) + (f"\n... and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(ErrorCode.BAD_FILE, f"{path}: {len(problems)} bad line(s):\n{shown}")
        self.problems = problems


def read_jsonl(path: Path, *, skip_bad: bool = False) -> tuple[list[Example], list[str]]:
    """Examples from a JSONL file, and the problems found (``"line N: ..."``).

    Raises :class:`CorpusError` on the first file with bad lines unless `skip_bad`.
    """
    examples: list[Example] = []
    problems: list[str] = []
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorpusError(path, ["the file is not UTF-8 text"]) from None
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(item, dict):
            problems.append(f"line {number}: expected an object with text and label")
            continue
        text, label = item.get("text"), item.get("label")
        if label not in LABELS:
            problems.append(f"line {number}: label must be 'promotional' or 'community', not {label!r}")
            continue
        try:
            check_text(text)
        except InvalidText as exc:
            problems.append(f"line {number}: {exc.message}")
            continue
        assert isinstance(text, str) and isinstance(label, str)
        examples.append(Example(text=text, label=label, source=str(item.get("source", ""))))
    if problems and not skip_bad:
        raise CorpusError(path, problems)
    return examples, problems


# The sets the model never trains on, each measured after training (docs/charter.md).
EVALUATION_SETS = ["heldout", "independent", "independent2", "independent3"]


def training_paths(*, with_extra: bool = False) -> list[Path]:
    """The files `convenor charter train` learns from (and `retrain`, with extra.jsonl)."""
    paths = [CORPUS_DIR / "train.jsonl", CORPUS_DIR / "seeds.jsonl", CORPUS_DIR / "handwritten.jsonl"]
    if with_extra:
        paths.append(CORPUS_DIR / "extra.jsonl")
    return paths


def extra_examples() -> list[Example]:
    """Examples from moderators' decisions on held posts, added by `convenor charter retrain`:
    an approved post was community after all, a rejected or moved one promotional.

    The text is the one decided on (kept with the decision). Empty without a database.
    """
    from django.db import DatabaseError

    from convenor.spaces.models import Decision, ModerationDecision

    try:
        rows = list(ModerationDecision.objects.exclude(text="").values_list("pk", "decision", "text"))
    except DatabaseError:
        return []
    return [
        Example(
            text=text[:MAX_TEXT_CHARS],
            label="community" if decision == Decision.APPROVE else "promotional",
            source=f"moderation:{pk}",
        )
        for pk, decision, text in rows
    ]


def _dedupe(examples: Iterable[Example]) -> list[Example]:
    # Sorted and de-duplicated so that the order of files or lines never changes the model;
    # on a conflict for one text, the later label wins (extra.jsonl corrects the corpus).
    by_text: dict[str, Example] = {}
    for e in examples:
        by_text[e.text] = e
    return [by_text[t] for t in sorted(by_text)]


def corpus_digest(examples: Sequence[Example]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.text, e.label], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


# -- the model ----------------------------------------------------------------------------


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.5, lowercase=True, dtype=np.float64
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=3,
                    lowercase=True,
                    dtype=np.float64,
                ),
            ),
            ("signals", SignalFeatures()),
        ]
    )


_WORD_RE = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default token pattern


class Model:
    """A trained detector. Build it with :func:`train`; keep it with :meth:`save`/:meth:`load`."""

    def __init__(
        self,
        *,
        features: FeatureUnion,
        coef: np.ndarray[Any, Any],
        intercept: float,
        digest: str,
        n_examples: int,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.features = features
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)
        self.digest = digest
        self.n_examples = n_examples
        self.threshold = threshold
        self._index()

    def _index(self) -> None:
        words, chars, signals = (t for _, t in self.features.transformer_list)
        self._n_words = len(words.vocabulary_)
        self._n_chars = len(chars.vocabulary_)
        self._word_names = {i: w for w, i in words.vocabulary_.items()}
        self._char_index: dict[str, int] = dict(chars.vocabulary_)
        self._signal_names = list(signals.get_feature_names_out())
        self._parts = [(words, 0), (chars, self._n_words), (signals, self._n_words + self._n_chars)]

    def _row(self, text: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """The non-zero features of one text, as (column indices, values).

        The same numbers as ``self.features.transform([text])``, without FeatureUnion's
        per-call overhead (about half a millisecond, a third of the scoring time), and
        without scikit-learn's input checks, which cost another quarter: the input is one
        str that ``score`` has checked already, and the transformers are our own, fitted.
        """
        indices, values = [], []
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            for transformer, offset in self._parts:
                part = transformer.transform([text]).tocsr()
                indices.append(part.indices + offset)
                values.append(part.data)
        return np.concatenate(indices), np.concatenate(values)

    # -- persistence

    def save(self, path: Path) -> None:
        """Write the model atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        payload = {
            "format": FORMAT_VERSION,
            "digest": self.digest,
            "n_examples": self.n_examples,
            "threshold": self.threshold,
            "features": self.features,
            "coef": self.coef,
            "intercept": self.intercept,
        }
        joblib.dump(payload, tmp, compress=3)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Model:
        """Read a saved model. Raises :class:`ModelUnavailable` when it cannot be used."""
        if not path.is_file():
            raise ModelUnavailable(f"no charter model at {path}")
        try:
            payload = joblib.load(path)
        except Exception as exc:  # joblib/pickle raise many types for a damaged file
            raise ModelUnavailable(f"the charter model at {path} is corrupt ({type(exc).__name__})") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
            raise ModelUnavailable(f"the charter model at {path} is from another version of Convenor")
        try:
            return cls(
                features=payload["features"],
                coef=payload["coef"],
                intercept=payload["intercept"],
                digest=payload["digest"],
                n_examples=payload["n_examples"],
                threshold=payload["threshold"],
            )
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise ModelUnavailable(f"the charter model at {path} is corrupt ({type(exc).__name__})") from exc

    # -- scoring

    def probabilities(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Probabilities for many texts at once (evaluation); texts must be checked already."""
        x = self.features.transform(list(texts))
        z = x @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def score(self, text: object, *, threshold: float | None = None, max_reasons: int = 5) -> Score:
        """Score one text. Raises :class:`InvalidText` for empty, too long or non-text input."""
        checked = check_text(text)
        cut = self.threshold if threshold is None else threshold
        indices, values = self._row(checked)
        contributions = values * self.coef[indices]
        z = float(contributions.sum()) + self.intercept
        probability = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        reasons = self._reasons(checked, indices, contributions, max_reasons) if max_reasons else []
        return Score(probability=probability, promotional=probability >= cut, threshold=cut, reasons=reasons)

    def _reasons(
        self, text: str, indices: np.ndarray[Any, Any], contributions: np.ndarray[Any, Any], limit: int
    ) -> list[Reason]:
        nw, nc = self._n_words, self._n_chars
        lower = text.lower()
        tokens = [(m.group(0), m.start(), m.end()) for m in _WORD_RE.finditer(lower)]
        # Where each unigram and bigram first occurs, as token positions.
        first: dict[str, tuple[int, int]] = {}
        for i, (tok, _, _) in enumerate(tokens):
            first.setdefault(tok, (i, i))
            if i + 1 < len(tokens):
                first.setdefault(f"{tok} {tokens[i + 1][0]}", (i, i + 1))

        # Character n-grams are credited to the word(s) they come from, so that people
        # see "ratecard" rather than " rat". Each n-gram's contribution is shared equally
        # among its occurrences.
        token_weight = [0.0] * len(tokens)
        char_contrib = {int(i) - nw: float(c) for i, c in zip(indices, contributions, strict=True) if nw <= i < nw + nc}
        if char_contrib:
            per_gram: dict[int, list[int]] = {}
            for t, (tok, _, _) in enumerate(tokens):
                padded = f" {tok} "
                seen: set[int] = set()
                for n in range(2, 6):
                    for k in range(len(padded) - n + 1):
                        j = self._char_index.get(padded[k : k + n])
                        if j is not None and j in char_contrib and j not in seen:
                            seen.add(j)
                            per_gram.setdefault(j, []).append(t)
            for j, owners in per_gram.items():
                share = char_contrib[j] / len(owners)
                for t in owners:
                    token_weight[t] += share

        candidates: list[tuple[float, int, int]] = []  # (weight, first token, last token)
        used_in_phrase: set[int] = set()
        for i, c in zip(indices, contributions, strict=True):
            if i < nw:
                span = first.get(self._word_names[int(i)])
                if span is not None:
                    a, b = span
                    candidates.append((float(c) + sum(token_weight[a : b + 1]), a, b))
                    used_in_phrase.update(range(a, b + 1))
        for t, w in enumerate(token_weight):
            if t not in used_in_phrase and w > 0:
                candidates.append((w, t, t))

        reasons: list[Reason] = []
        signal_text: list[str] = []
        sig_offset = nw + nc
        matches = dict(signal_matches(text)) if any(i >= sig_offset for i in indices) else {}
        for i, c in zip(indices, contributions, strict=True):
            if i >= sig_offset and c > 0:
                name = self._signal_names[int(i) - sig_offset]
                phrase = matches.get(name)
                if phrase:
                    reasons.append(Reason(phrase=phrase, weight=float(c), kind="signal", signal=name))
                    signal_text.append(phrase.lower())

        taken: set[int] = set()
        for w, a, b in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
            if w <= 0 or len(reasons) >= limit * 2:
                break
            if taken.intersection(range(a, b + 1)):
                continue
            phrase = text[tokens[a][1] : tokens[b][2]]
            if any(phrase.lower() in s for s in signal_text):
                continue
            taken.update(range(a, b + 1))
            reasons.append(Reason(phrase=phrase, weight=w, kind="phrase"))
        reasons.sort(key=lambda r: (-r.weight, r.phrase))
        return reasons[:limit]

    def evaluate(self, examples: Sequence[Example], threshold: float | None = None) -> Metrics:
        """Precision, recall, F1 and the false-positive rate for the label "promotional"."""
        if not examples:
            return Metrics(0, 0.0, 0.0, 0.0, 0.0)
        cut = self.threshold if threshold is None else threshold
        predicted = self.probabilities([e.text for e in examples]) >= cut
        return metrics([e.y for e in examples], [bool(p) for p in predicted])

    def top_features(self, n: int = 30) -> list[tuple[str, float]]:
        """The strongest promotional features, for docs and debugging."""
        names = list(self.features.get_feature_names_out())
        order = np.argsort(-self.coef, kind="stable")[:n]
        return [(str(names[i]), float(self.coef[i])) for i in order]


def metrics(truth: Sequence[int], predicted: Sequence[bool]) -> Metrics:
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if not t and p)
    fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t and not p)
    negatives = sum(1 for t in truth if not t)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(len(truth), precision, recall, f1, fp / negatives if negatives else 0.0)


def _fit(data: Sequence[Example]) -> tuple[FeatureUnion, np.ndarray[Any, Any], float]:
    texts = [e.text for e in data]
    y = np.array([e.y for e in data])
    features = _features()
    x = features.fit_transform(texts)
    clf = LogisticRegression(C=_C, class_weight="balanced", solver="liblinear", random_state=0, max_iter=1000)
    clf.fit(x, y)
    return features, clf.coef_[0], float(clf.intercept_[0])


VALIDATION_SOURCE = "generated:train-val:"


def _validation_split(data: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(fit, validation) of the training corpus. build.py generates the validation rows
    ("generated:train-val:...") from a fifth of the training family's templates and
    vocabulary, which the other training rows never use: the same protocol as the
    held-out family, inside the training corpus."""
    fit: list[Example] = []
    validation: list[Example] = []
    for e in data:
        (validation if e.source.startswith(VALIDATION_SOURCE) else fit).append(e)
    return fit, validation


def choose_offset(data: Sequence[Example], target_fpr: float = TARGET_VALIDATION_FPR) -> float:
    """How far to move the decision boundary (in log-odds, >= 0) so that a model fitted on
    the fit split holds at most `target_fpr` of the validation split's community texts.

    Returns 0.0 when the corpus is too small for a validation split to mean anything.
    """
    fit, validation = _validation_split(data)
    negatives = [e.text for e in validation if not e.y]
    if len(negatives) < 50 or {e.label for e in fit} != set(LABELS):
        return 0.0
    features, coef, intercept = _fit(fit)
    z = np.sort(np.asarray(features.transform(negatives) @ coef + intercept))[::-1]
    allowed = math.floor(target_fpr * len(z))  # community texts that may score >= 0
    return max(0.0, float(z[allowed]) + 1e-9)


def train_examples(examples: Iterable[Example]) -> Model:
    """Fit a model on `examples` (sorted and de-duplicated first, so the order never matters).

    The decision boundary is then moved by :func:`choose_offset` (a validation split of
    these examples only), so that probability >= 0.5 is the operating point.
    """
    data = _dedupe(examples)
    labels = {e.label for e in data}
    if labels != set(LABELS):
        raise ApplicationError(ErrorCode.VALIDATION, "the corpus needs both promotional and community examples")
    offset = choose_offset(data)
    features, coef, intercept = _fit(data)
    return Model(
        features=features,
        coef=coef,
        intercept=intercept - offset,
        digest=corpus_digest(data),
        n_examples=len(data),
    )


def evaluate_sets(model: Model) -> dict[str, Metrics]:
    """The model measured on each of EVALUATION_SETS, by name."""
    return {name: model.evaluate(read_jsonl(CORPUS_DIR / f"{name}.jsonl")[0]) for name in EVALUATION_SETS}


def train(corpus_paths: Sequence[Path], *, extra: Iterable[Example] = ()) -> Model:
    """Train on JSONL files (bad lines are an error) plus `extra` examples."""
    examples: list[Example] = []
    for path in corpus_paths:
        if path.is_file():
            examples.extend(read_jsonl(path)[0])
    examples.extend(extra)
    return train_examples(examples)


# -- the shared model of this process -----------------------------------------------------


def model_path() -> Path:
    override = getattr(settings, "CHARTER_MODEL_PATH", None)
    return Path(override) if override else Path(settings.DATA_DIR) / "charter-model.joblib"


_lock = threading.Lock()
_cached: tuple[Path, float, Model] | None = None


def get_model() -> Model:
    """The model of this process, loaded once (and again only when the file changes)."""
    global _cached
    path = model_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = -1.0
    cached = _cached
    if cached is not None and cached[0] == path and cached[1] == mtime:
        return cached[2]
    with _lock:
        model = Model.load(path)
        _cached = (path, mtime, model)
        return model


def reset_cache() -> None:
    global _cached
    _cached = None


def score(text: object, *, threshold: float | None = None, max_reasons: int = 5) -> Score:
    """Score `text` with the shipped model. See the module docstring for the contract."""
    return get_model().score(text, threshold=threshold, max_reasons=max_reasons)
