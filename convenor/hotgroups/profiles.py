"""Interest profiles: topics found in the community's own text, and each person's interest in them.

A topic model (TF-IDF, then non-negative matrix factorisation, both from scikit-learn) is
fitted on the community's posts, event titles and descriptions, and ideas; at scale it is
fitted on a random sample and every other text is projected onto it in batches, so the cost
grows with the number of texts, not with its square. Each topic is labelled by its top terms.

A person's profile mixes four sources, each normalised to sum to one before mixing so that
a prolific writer is not "more interested" than a quiet reader:

- what they declared (their picked interests, projected onto the topics),
- what they write (their posts and ideas),
- what they attend (events registered for; attended counts double),
- what they vote for (ideas).

``profile_refresh()`` is incremental: with a current model it projects only the posts
written since the last run, then recomputes the profiles from the stored per-post topics
(cheap: a GROUP BY). ``refit=True`` fits a new model from scratch.
"""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import joblib
import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.hotgroups.models import MemberInterest, PostTopic, Topic, TopicModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]

# Documents the model is fitted on; the rest are projected. 40k short posts fit in seconds.
FIT_SAMPLE = 40_000
BATCH = 20_000
MAX_TERMS = 20_000
MIN_TOPICS, MAX_TOPICS = 3, 40
# How the four sources mix into one profile.
SOURCE_WEIGHTS = {"declared": 0.35, "written": 0.35, "attended": 0.2, "voted": 0.1}
# Interests below this share of a profile are not stored (they never qualify anyway).
STORE_SHARE = 0.02
# "Well above average": at least this many times the topic's average share over the
# community, and at least this share of the person's own profile.
HOLD_RATIO = 2.0
HOLD_SHARE = 0.10
TOKENS = r"(?u)\b[a-zA-Z][a-zA-Z0-9+#-]{2,}\b"
# Conversational filler that says nothing about a topic (on top of scikit-learn's English list).
FILLER = frozenset(
    [
        "actually",
        "ago",
        "agree",
        "anybody",
        "anyone",
        "ask",
        "asked",
        "asking",
        "away",
        "bad",
        "best",
        "better",
        "bit",
        "did",
        "does",
        "doing",
        "don",
        "done",
        "drop",
        "feel",
        "fine",
        "glad",
        "going",
        "good",
        "got",
        "great",
        "guess",
        "happen",
        "happy",
        "hear",
        "heard",
        "hello",
        "help",
        "helped",
        "helpful",
        "helps",
        "hey",
        "hi",
        "honestly",
        "idea",
        "just",
        "know",
        "later",
        "let",
        "like",
        "little",
        "lot",
        "lots",
        "love",
        "make",
        "makes",
        "maybe",
        "mean",
        "month",
        "months",
        "need",
        "needed",
        "new",
        "nice",
        "ok",
        "okay",
        "people",
        "pretty",
        "probably",
        "question",
        "quick",
        "really",
        "right",
        "said",
        "say",
        "saw",
        "says",
        "see",
        "seen",
        "share",
        "shared",
        "sharing",
        "similar",
        "sure",
        "tell",
        "thank",
        "thanks",
        "thing",
        "things",
        "think",
        "thought",
        "time",
        "times",
        "today",
        "tried",
        "try",
        "trying",
        "use",
        "used",
        "using",
        "ve",
        "want",
        "wanted",
        "wants",
        "way",
        "ways",
        "week",
        "weeks",
        "went",
        "work",
        "worked",
        "working",
        "works",
        "worth",
        "yeah",
        "year",
        "years",
        "yes",
    ]
)


@dataclass
class Fitted:
    """The fitted vectorizer and factorisation."""

    vectorizer: TfidfVectorizer
    nmf: NMF

    def project(self, texts: Sequence[str]) -> FloatArray:
        """Topic weights of each text (rows), zero for a text with no known term."""
        if not texts:
            return np.zeros((0, self.nmf.n_components_), dtype=np.float64)
        x = self.vectorizer.transform(texts)
        return cast(FloatArray, np.asarray(self.nmf.transform(x), dtype=np.float64))

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump((self.vectorizer, self.nmf), buf)
        return zlib.compress(buf.getvalue(), 6)

    @classmethod
    def loads(cls, blob: bytes) -> Fitted:
        vectorizer, nmf = joblib.load(io.BytesIO(zlib.decompress(bytes(blob))))
        return cls(vectorizer=vectorizer, nmf=nmf)


_CACHE: dict[int, Fitted] = {}


def current_model() -> TopicModel | None:
    return TopicModel.objects.defer("blob").order_by("-fitted_at", "-id").first()


def fitted(model: TopicModel) -> Fitted:
    """The fitted objects of `model`, loaded once per process."""
    if model.pk not in _CACHE:
        blob = TopicModel.objects.values_list("blob", flat=True).get(pk=model.pk)
        _CACHE.clear()
        _CACHE[model.pk] = Fitted.loads(bytes(blob))
    return _CACHE[model.pk]


def require_model() -> TopicModel:
    model = current_model()
    if model is None:
        raise ApplicationError(
            ErrorCode.CONFLICT, "No interest profiles yet: build them first with `convenor hotgroups profile`"
        )
    return model


# --- the corpus -----------------------------------------------------------------------------


def _post_rows(after_id: int = 0, chunk: int = BATCH) -> Iterator[list[tuple[int, int, str, Any]]]:
    """Published posts after `after_id` in id order, a chunk at a time (keyset pages)."""
    from convenor.spaces.models import Post, PostState

    last = after_id
    while True:
        rows = list(
            Post.objects.filter(pk__gt=last, state=PostState.PUBLISHED)
            .order_by("pk")
            .values_list("pk", "author_id", "text", "created_at")[:chunk]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _event_texts() -> tuple[IntArray, list[str]]:
    from convenor.events.models import Event

    rows = list(Event.objects.order_by("pk").values_list("pk", "title", "description"))
    return np.array([r[0] for r in rows], dtype=np.int64), [f"{r[1]}. {r[2]}" for r in rows]


def _idea_texts() -> tuple[IntArray, IntArray, list[str]]:
    """Ideas (id, author or -1, text) from the feedback app."""
    from convenor.feedback.models import Idea

    rows = list(Idea.objects.order_by("pk").values_list("pk", "author_id", "title", "description"))
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] if r[1] is not None else -1 for r in rows], dtype=np.int64),
        [f"{r[2]}. {r[3]}" for r in rows],
    )


def _sample_texts(rng: np.random.Generator, extra: list[str]) -> list[str]:
    """Up to FIT_SAMPLE texts: a uniform sample of the posts plus the events and ideas."""
    from convenor.spaces.models import Post, PostState

    ids = np.array(
        Post.objects.filter(state=PostState.PUBLISHED).order_by("pk").values_list("pk", flat=True), dtype=np.int64
    )
    want = max(0, FIT_SAMPLE - len(extra))
    if len(ids) > want:
        ids = np.sort(rng.choice(ids, size=want, replace=False))
    texts: list[str] = []
    for lo in range(0, len(ids), 5000):
        part = ids[lo : lo + 5000].tolist()
        texts.extend(Post.objects.filter(pk__in=part).values_list("text", flat=True))
    return texts + extra


def _topic_count(n_docs: int) -> int:
    """As many topics as declared interests in use (the community's own list of themes),
    bounded by what the corpus can support."""
    from convenor.people.models import Interest

    declared = Interest.objects.filter(members__isnull=False).distinct().count()
    guess = declared or int(np.sqrt(max(n_docs, 1) / 10))
    # A topic needs a few dozen texts to stand out from the others.
    return int(min(MAX_TOPICS, max(MIN_TOPICS, min(guess, n_docs // 25))))


def fit(texts: list[str], n_topics: int, *, seed: int = 0) -> Fitted:
    """Fit TF-IDF and NMF on `texts`. Raises VALIDATION when there is too little text."""
    useful = [t for t in texts if t and t.strip()]
    if len(useful) < n_topics * 2:
        raise invalid(
            f"Too little text to find {n_topics} topics: {len(useful)} posts, events and ideas",
            topics="write or import more conversations first, or ask for fewer topics",
        )
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    vectorizer = TfidfVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | FILLER),
        ngram_range=(1, 2),
        token_pattern=TOKENS,
        lowercase=True,
        max_features=MAX_TERMS,
        min_df=2 if len(useful) >= 50 else 1,
        max_df=0.5 if len(useful) >= 50 else 1.0,
        sublinear_tf=True,
        dtype=np.float32,
    )
    x = vectorizer.fit_transform(useful)
    k = min(n_topics, x.shape[1] - 1, x.shape[0] - 1)
    if k < 2:
        raise invalid("Too little vocabulary to find topics", topics="write or import more conversations first")
    nmf = NMF(n_components=k, init="nndsvda", max_iter=300, random_state=seed, tol=1e-3)
    nmf.fit(x)
    return Fitted(vectorizer=vectorizer, nmf=nmf)


def _labels(f: Fitted, n_terms: int = 6) -> list[list[str]]:
    terms = f.vectorizer.get_feature_names_out()
    return [[str(terms[i]) for i in np.argsort(-row)[:n_terms]] for row in f.nmf.components_]


# --- building -------------------------------------------------------------------------------


@dataclass
class ProfileRun:
    """What a profile run did."""

    model_id: int
    refitted: bool
    topics: int
    posts_projected: int
    profiles: int
    interests: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _normalise_rows(m: FloatArray) -> FloatArray:
    s = m.sum(axis=1, keepdims=True)
    out: FloatArray = np.divide(m, s, out=np.zeros_like(m), where=s > 0)
    return out


def _project_posts(f: Fitted, model: TopicModel, topic_ids: IntArray, progress: Progress, total: int) -> int:
    """Project posts after the model's last one; store each post's strongest topic."""
    done = 0
    last = model.last_post_id
    for rows in _post_rows(model.last_post_id):
        w = f.project([r[2] for r in rows])
        sums = w.sum(axis=1)
        best = w.argmax(axis=1)
        objs = [
            PostTopic(
                post_id=r[0],
                topic_id=int(topic_ids[best[i]]),
                author_id=r[1],
                created_at=r[3],
                weight=float(w[i, best[i]] / sums[i]),
            )
            for i, r in enumerate(rows)
            if sums[i] > 0
        ]
        PostTopic.objects.bulk_create(objs, batch_size=5000, ignore_conflicts=True)
        done += len(rows)
        last = rows[-1][0]
        progress(done, total)
    model.last_post_id = last
    model.projected_docs += done
    return done


def profile_refresh(
    *, refit: bool = False, n_topics: int | None = None, seed: int = 0, progress: Progress | None = None
) -> ProfileRun:
    """Build or bring up to date the topics and everyone's interest profile.

    Fits a new model when there is none, when `refit` is set, or when `n_topics` differs
    from the current model's; otherwise projects only the new posts. Re-running is safe:
    the profiles are rebuilt from what is stored, never added to twice.
    Raises VALIDATION when there is too little text or `n_topics` is out of range.
    """
    from convenor.spaces.models import Post, PostState

    started = time.monotonic()
    progress = progress or (lambda done, total: None)
    if n_topics is not None and not MIN_TOPICS <= n_topics <= MAX_TOPICS:
        raise invalid(
            f"Ask for between {MIN_TOPICS} and {MAX_TOPICS} topics, not {n_topics}",
            topics=f"from {MIN_TOPICS} to {MAX_TOPICS}",
        )
    model = current_model()
    refitted = model is None or refit or (n_topics is not None and n_topics != model.n_topics)
    if refitted:
        rng = np.random.default_rng(seed)
        _, event_texts = _event_texts()
        _, _, idea_texts = _idea_texts()
        sample = _sample_texts(rng, event_texts + idea_texts)
        f = fit(sample, n_topics or _topic_count(len(sample)), seed=seed)
        with transaction.atomic():
            model = TopicModel.objects.create(
                blob=f.dumps(),
                n_topics=f.nmf.n_components_,
                n_terms=len(f.vectorizer.vocabulary_),
                fit_docs=len(sample),
            )
            Topic.objects.bulk_create(
                [
                    Topic(model=model, index=i, label=", ".join(terms[:3]), terms=terms)
                    for i, terms in enumerate(_labels(f))
                ]
            )
        _CACHE.clear()
        _CACHE[model.pk] = f
        # Older models' derived rows go: the profiles below replace them.
        PostTopic.objects.exclude(topic__model=model).delete()
        MemberInterest.objects.exclude(topic__model=model).delete()
    assert model is not None
    f = fitted(model)
    topics = list(Topic.objects.filter(model=model).order_by("index"))
    topic_ids = np.array([t.pk for t in topics], dtype=np.int64)
    pending = Post.objects.filter(pk__gt=model.last_post_id, state=PostState.PUBLISHED).count()
    projected = _project_posts(f, model, topic_ids, progress, pending)
    profiles, interests = _rebuild_profiles(model, f, topics, topic_ids)
    model.profiled_at = timezone.now()
    model.seconds = time.monotonic() - started
    model.save(update_fields=["last_post_id", "projected_docs", "profiled_at", "seconds"])
    return ProfileRun(
        model_id=model.pk,
        refitted=refitted,
        topics=len(topics),
        posts_projected=projected,
        profiles=profiles,
        interests=interests,
        seconds=round(time.monotonic() - started, 3),
    )


def _interest_names(f: Fitted, iv: FloatArray, names: list[str]) -> dict[int, str]:
    """Each declared interest names at most one topic, the one it leans on most (when it
    leans clearly), and each topic takes the interest that leans on it most."""
    out: dict[int, str] = {}
    if not len(iv):
        return out
    home = iv.argmax(axis=1)
    for t in range(iv.shape[1]):
        mine = [i for i in range(len(iv)) if home[i] == t and iv[i, t] > 0.4]
        if mine:
            out[t] = names[max(mine, key=lambda i: iv[i, t])]
    return out


def _rebuild_profiles(model: TopicModel, f: Fitted, topics: list[Topic], topic_ids: IntArray) -> tuple[int, int]:
    """Every person's profile from the four sources, and the "well above average" ratios."""
    from convenor.events.models import Registration, RegistrationState
    from convenor.feedback.models import Vote
    from convenor.people.models import Interest, Member

    k = len(topics)
    members = np.array(Member.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    n = len(members)
    if n == 0:
        return 0, 0
    col = {int(t): i for i, t in enumerate(topic_ids)}

    def index(ids: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        pos = np.searchsorted(members, ids)
        pos = np.minimum(pos, n - 1)
        return pos, members[pos] == ids

    # written: posts (from their stored topic) and ideas
    written = np.zeros((n, k))
    per_author = (
        PostTopic.objects.filter(topic__model=model)
        .values("author_id", "topic_id")
        .annotate(w=Sum("weight"))
        .values_list("author_id", "topic_id", "w")
    )
    rows = list(per_author)
    if rows:
        a = np.array([r[0] for r in rows], dtype=np.int64)
        t_ = np.array([col[r[1]] for r in rows], dtype=np.int64)
        w = np.array([r[2] for r in rows], dtype=np.float64)
        pos, ok = index(a)
        np.add.at(written, (pos[ok], t_[ok]), w[ok])
    idea_ids, idea_authors, idea_texts = _idea_texts()
    idea_vec = _normalise_rows(f.project(idea_texts)) if idea_texts else np.zeros((0, k))
    if len(idea_ids):
        has = idea_authors >= 0
        pos, ok = index(idea_authors)
        ok &= has
        np.add.at(written, pos[ok], idea_vec[ok])
    # attended: registrations (attended counts double)
    attended = np.zeros((n, k))
    event_ids, event_texts = _event_texts()
    if len(event_ids):
        ev = _normalise_rows(f.project(event_texts))
        regs = list(
            Registration.objects.exclude(state=RegistrationState.CANCELLED).values_list(
                "member_id", "event_id", "attended_at"
            )
        )
        if regs:
            rm = np.array([r[0] for r in regs], dtype=np.int64)
            re = np.searchsorted(event_ids, np.array([r[1] for r in regs], dtype=np.int64))
            rw = np.array([2.0 if r[2] is not None else 1.0 for r in regs])
            pos, ok = index(rm)
            np.add.at(attended, pos[ok], ev[re[ok]] * rw[ok, None])
    # voted: ideas voted for
    voted = np.zeros((n, k))
    if len(idea_ids):
        votes = list(Vote.objects.values_list("member_id", "idea_id"))
        if votes:
            vm = np.array([v[0] for v in votes], dtype=np.int64)
            vi = np.searchsorted(idea_ids, np.array([v[1] for v in votes], dtype=np.int64))
            pos, ok = index(vm)
            np.add.at(voted, pos[ok], idea_vec[vi[ok]])
    # declared: each picked interest, as its name projected onto the topics plus what the
    # people who picked it write, attend and vote for (so "Stream processing" finds the
    # topic of "kafka" and "consumer lag" even though the words differ)
    behaviour = _normalise_rows(
        _normalise_rows(written) + 0.5 * _normalise_rows(attended) + 0.3 * _normalise_rows(voted)
    )
    interests = list(Interest.objects.order_by("pk").values_list("pk", "name"))
    declared = np.zeros((n, k))
    names: dict[int, str] = {}
    if interests:
        ipos = {pk: i for i, (pk, _) in enumerate(interests)}
        picks = list(Member.interests.through.objects.values_list("member_id", "interest_id"))
        pm = np.array([p[0] for p in picks], dtype=np.int64)
        pi = np.array([ipos[p[1]] for p in picks], dtype=np.int64)
        pos, ok = index(pm) if len(pm) else (pm, np.zeros(0, dtype=bool))
        learned = np.zeros((len(interests), k))
        np.add.at(learned, pi[ok], behaviour[pos[ok]])
        iv = _normalise_rows(_normalise_rows(f.project([name for _, name in interests])) + _normalise_rows(learned))
        np.add.at(declared, pos[ok], iv[pi[ok]])
        names = _interest_names(f, iv, [name for _, name in interests])
    sources = {"declared": declared, "written": written, "attended": attended, "voted": voted}
    normed = {name: _normalise_rows(m) for name, m in sources.items()}
    weight_sum = np.zeros((n, 1))
    profile = np.zeros((n, k))
    for name, m in normed.items():
        present = (m.sum(axis=1, keepdims=True) > 0).astype(np.float64) * SOURCE_WEIGHTS[name]
        weight_sum += present
        profile += m * SOURCE_WEIGHTS[name]
    profile = np.divide(profile, weight_sum, out=np.zeros_like(profile), where=weight_sum > 0)
    has_profile = profile.sum(axis=1) > 0
    ratio = _ratios(profile, has_profile)
    # store
    keep_r, keep_c = np.nonzero(profile >= STORE_SHARE)
    objs = [
        MemberInterest(
            member_id=int(members[r]),
            topic_id=int(topic_ids[c]),
            share=float(min(1.0, profile[r, c])),
            declared=float(normed["declared"][r, c]),
            written=float(normed["written"][r, c]),
            attended=float(normed["attended"][r, c]),
            voted=float(normed["voted"][r, c]),
            ratio=float(ratio[r, c]),
        )
        for r, c in zip(keep_r.tolist(), keep_c.tolist(), strict=True)
    ]
    holds = (profile >= HOLD_SHARE) & (ratio >= HOLD_RATIO)
    share = profile.sum(axis=0)
    share = share / share.sum() if share.sum() > 0 else share
    with transaction.atomic():
        MemberInterest.objects.filter(topic__model=model).delete()
        MemberInterest.objects.bulk_create(objs, batch_size=5000)
        for i, tp in enumerate(topics):
            tp.holders = int(holds[:, i].sum())
            tp.share = float(share[i])
            tp.interest_name = names.get(i, "")
        Topic.objects.bulk_update(topics, ["holders", "share", "interest_name"])
    return int(has_profile.sum()), len(objs)


def _ratios(profile: FloatArray, has_profile: npt.NDArray[np.bool_]) -> FloatArray:
    """Each share divided by the topic's average share over the whole business community.

    The whole community, not the person's cluster on the map: clusters are often the
    interest cohorts themselves, where a shared interest would look merely average.
    """
    overall = profile[has_profile].mean(axis=0) if has_profile.any() else np.zeros(profile.shape[1])
    out: FloatArray = np.divide(profile, overall[None, :], out=np.zeros_like(profile), where=overall[None, :] > 1e-9)
    return out


# --- reading --------------------------------------------------------------------------------


def topic_for_text(text: str, model: TopicModel | None = None) -> Topic:
    """The current topic an interest given in words stands for.

    Matches a topic's declared-interest name or label first, then the topic the words lean on
    most. Raises VALIDATION when no topic uses any of its words (an interest nobody has).
    """
    model = model or require_model()
    text = text.strip()
    if not text:
        raise invalid("Name an interest", interest="required")
    topics = Topic.objects.filter(model=model)
    exact = topics.filter(Q(interest_name__iexact=text) | Q(label__iexact=text)).first()
    if exact is not None:
        return exact
    from convenor.people.models import Interest

    declared = Interest.objects.filter(name__iexact=text).first()
    if declared is not None:
        # The topic the people who declared it hold most.
        best = (
            MemberInterest.objects.filter(topic__model=model, member__interests=declared)
            .values("topic_id")
            .annotate(total=Sum("share"))
            .order_by("-total")
            .first()
        )
        if best is not None:
            return topics.get(pk=best["topic_id"])
    if text.startswith("#") and text[1:].isdigit():
        by_id = topics.filter(pk=int(text[1:])).first()
        if by_id is not None:
            return by_id
    w = fitted(model).project([text])[0]
    if w.sum() <= 0:
        raise invalid(
            f"Nobody in the community has the interest “{text}”: no topic in what people write, "
            "attend, vote for or declared uses its words",
            interest="an interest nobody has",
        )
    return topics.get(index=int(np.argmax(w)))


def topic_stats(model: TopicModel) -> dict[int, dict[str, int]]:
    """Per topic id: people with any stored interest in it."""
    rows = (
        MemberInterest.objects.filter(topic__model=model).values("topic_id").annotate(n=Count("pk"), top=Max("ratio"))
    )
    return {r["topic_id"]: {"people": r["n"]} for r in rows}


def post_topic_vectors(texts: Sequence[str], model: TopicModel) -> FloatArray:
    return _normalise_rows(fitted(model).project(texts))
