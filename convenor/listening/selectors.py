"""Reads for listening: sources and runs, the outside posts, share of voice, where each
segment of customers hangs out (and what it talks about there), and the observed people.

Counting is done in SQL (GROUP BY); Python only shapes the small results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, F, FilteredRelation, Q, QuerySet
from django.db.models.functions import TruncMonth

from convenor.activity.models import Activity
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.listening.models import BrandAlias, BrandMention, Conduit, ImportRun, OutsidePost, Source
from convenor.people.models import Member, Organization, OrgKind, Role

SOV_BY = ("conduit", "segment", "month")
SEGMENTS = ("industry", "organization", "role")
UNKNOWN = "(unknown)"


def source_list() -> QuerySet[Source]:
    return Source.objects.annotate(n_posts=Count("posts", distinct=True)).order_by("name")


def run_list(*, source: Source | None = None, failed_only: bool = False) -> QuerySet[ImportRun]:
    qs = ImportRun.objects.select_related("source", "actor")
    if source is not None:
        qs = qs.filter(source=source)
    if failed_only:
        qs = qs.filter(Q(status="failed") | Q(rejected__gt=0))
    return qs.order_by("-started_at", "-id")


def brands() -> list[dict[str, Any]]:
    """Our company and each competitor with their aliases, ours first."""
    orgs = list(Organization.objects.filter(kind__in=[OrgKind.OURS, OrgKind.COMPETITOR]).order_by("-kind", "name"))
    orgs.sort(key=lambda o: (o.kind != OrgKind.OURS, o.name.lower()))
    aliases: dict[int, list[BrandAlias]] = defaultdict(list)
    for a in BrandAlias.objects.filter(organization__in=orgs).order_by("alias"):
        aliases[a.organization_id].append(a)
    return [{"organization": o, "ours": o.kind == OrgKind.OURS, "aliases": aliases[o.pk]} for o in orgs]


def _share(ours: int, competitors: int) -> float | None:
    return round(ours / (ours + competitors), 4) if ours + competitors else None


def _segment_field(segment: str, prefix: str) -> str:
    if segment == "role":
        return f"{prefix}role"
    return "cur__organization__industry" if segment == "industry" else "cur__organization__name"


def _with_current_org(qs: QuerySet[Any], prefix: str) -> QuerySet[Any]:
    # The current workplace only: a LEFT JOIN on affiliations with no end date.
    annotated: QuerySet[Any] = qs.annotate(
        cur=FilteredRelation(f"{prefix}affiliations", condition=Q(**{f"{prefix}affiliations__ended_on__isnull": True}))
    )
    return annotated


@dataclass
class ShareOfVoice:
    ours: int = 0
    competitors: int = 0
    share: float | None = None
    by: str = ""
    segment: str = ""
    brands: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)
    trend_change: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ours": self.ours,
            "competitors": self.competitors,
            "share": self.share,
            "by": self.by,
            "segment": self.segment,
            "brands": self.brands,
            "rows": self.rows,
            "trend": self.trend,
            "trend_change": self.trend_change,
        }


def share_of_voice(*, by: str = "", segment: str = "industry", since: datetime | None = None) -> ShareOfVoice:
    """Mentions of our brand and of competitors', and share of voice = ours / (ours +
    competitors'), overall, per brand, per month (the trend) and, when `by` is given, per
    conduit, segment (`segment`: industry, organization or role of the author) or month."""
    base = BrandMention.objects.all()
    if since is not None:
        base = base.filter(occurred_at__gte=since)
    out = ShareOfVoice(by=by, segment=segment if by == "segment" else "")
    names = dict(Organization.objects.filter(kind__in=[OrgKind.OURS, OrgKind.COMPETITOR]).values_list("pk", "name"))
    for row in base.values("organization_id", "ours").annotate(n=Count("id"), s=Avg("sentiment")).order_by("-n"):
        out.brands.append(
            {
                "organization_id": row["organization_id"],
                "name": names.get(row["organization_id"], "?"),
                "ours": row["ours"],
                "mentions": row["n"],
                "sentiment": round(row["s"], 3) if row["s"] is not None else None,
            }
        )
    out.ours = sum(b["mentions"] for b in out.brands if b["ours"])
    out.competitors = sum(b["mentions"] for b in out.brands if not b["ours"])
    out.share = _share(out.ours, out.competitors)
    out.trend = _split(base.annotate(key=TruncMonth("occurred_at")), month=True)
    shares = [t["share"] for t in out.trend if t["share"] is not None]
    out.trend_change = round(shares[-1] - shares[0], 4) if len(shares) > 1 else None
    if by == "conduit":
        labels = dict(Conduit.choices)
        out.rows = _split(base.annotate(key=F("conduit")))
        for r in out.rows:
            r["label"] = labels.get(r["key"], r["key"])
    elif by == "month":
        out.rows = out.trend
    elif by == "segment":
        qs = _with_current_org(base, "author__")
        key = "author__role" if segment == "role" else _segment_field(segment, "author__")
        out.rows = _split(qs.annotate(key=F(key)))
        if segment == "role":
            labels = dict(Role.choices)
            for r in out.rows:
                r["label"] = labels.get(r["key"], r["key"])
        out.rows.sort(key=lambda r: -(r["ours"] + r["competitors"]))
    return out


def _split(qs: QuerySet[Any], *, month: bool = False) -> list[dict[str, Any]]:
    rows: dict[Any, dict[str, Any]] = {}
    for row in qs.values("key", "ours").annotate(n=Count("id"), s=Avg("sentiment")).order_by("key"):
        key = row["key"]
        if month and key is not None:
            key = key.strftime("%Y-%m")
        label = key if key not in (None, "") else UNKNOWN
        r = rows.setdefault(
            label,
            {
                "key": label,
                "label": label,
                "ours": 0,
                "competitors": 0,
                "sentiment_ours": None,
                "sentiment_competitors": None,
            },
        )
        side = "ours" if row["ours"] else "competitors"
        r[side] += row["n"]
        r[f"sentiment_{side}"] = round(row["s"], 3) if row["s"] is not None else None
    for r in rows.values():
        r["share"] = _share(r["ours"], r["competitors"])
    return list(rows.values())


# --- where customers hang out --------------------------------------------------------------


@dataclass
class Place:
    conduit: str
    conduit_label: str
    source_id: int
    source_name: str
    space: str
    posts: int
    people: int
    sentiment: float | None
    topics: list[str] = field(default_factory=list)
    width: float = 0.0  # the volume bar's length on the page, relative to the segment's busiest place


@dataclass
class Segment:
    name: str
    posts: int
    people: int
    places: list[Place]

    @property
    def best(self) -> Place | None:
        return self.places[0] if self.places else None


TEXTS_PER_PLACE = 300


def hangouts(
    *, segment: str = "industry", include_employees: bool = False, places_per_segment: int = 6, topics: int = 8
) -> list[Segment]:
    """For each segment of the people who talk in outside conduits (by the industry or the
    organisation they work at, or their role): the conduits and spaces where it is active,
    busiest first, with volume, people, mean sentiment and the words that set each place's
    conversations apart (TF-IDF over the place's recent posts against the other places)."""
    if segment not in SEGMENTS:
        segment = "industry"
    qs = _with_current_org(OutsidePost.objects.all(), "author__")
    if not include_employees:
        qs = qs.exclude(author__role=Role.EMPLOYEE)
    key = "author__role" if segment == "role" else _segment_field(segment, "author__")
    rows = (
        qs.annotate(seg=F(key))
        .values("seg", "conduit", "source_id", "source__name", "space")
        .annotate(n=Count("id"), people=Count("author", distinct=True), s=Avg("sentiment"))
        .order_by("-n", "-people", "conduit", "space")
    )
    labels = dict(Conduit.choices)
    role_labels = dict(Role.choices)
    by_segment: dict[str, list[Place]] = defaultdict(list)
    for r in rows:
        name = r["seg"] or UNKNOWN
        if segment == "role":
            name = role_labels.get(name, name)
        places = by_segment[name]
        if len(places) < places_per_segment:
            places.append(
                Place(
                    conduit=r["conduit"],
                    conduit_label=labels.get(r["conduit"], r["conduit"]),
                    source_id=r["source_id"],
                    source_name=r["source__name"],
                    space=r["space"],
                    posts=r["n"],
                    people=r["people"],
                    sentiment=round(r["s"], 3) if r["s"] is not None else None,
                )
            )
    people = {
        (r["seg"] or UNKNOWN): r["p"]
        for r in qs.annotate(seg=F(key)).values("seg").annotate(p=Count("author", distinct=True)).order_by()
    }
    segments = []
    for name, places in by_segment.items():
        if segment == "role":
            raw = next((k for k, v in role_labels.items() if v == name), name)
            ppl = people.get(raw, 0)
        else:
            ppl = people.get(name, 0)
        segments.append(Segment(name=name, posts=sum(p.posts for p in places), people=ppl, places=places))
    segments.sort(key=lambda s: (s.name == UNKNOWN, -s.posts))
    if topics:
        _topics(qs, key, segments, segment, topics)
    return segments


def _topics(qs: QuerySet[Any], key: str, segments: list[Segment], segment: str, n: int) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs: list[str] = []
    places: list[Place] = []
    role_values = {v: k for k, v in Role.choices}
    for seg in segments:
        raw = role_values.get(seg.name, seg.name) if segment == "role" else seg.name
        seg_filter = Q(**{f"{key}__isnull": True}) | Q(**{key: ""}) if raw == UNKNOWN else Q(**{key: raw})
        for place in seg.places:
            texts = (
                qs.filter(seg_filter, source_id=place.source_id, space=place.space)
                .order_by("-occurred_at")
                .values_list("title", "text")[:TEXTS_PER_PLACE]
            )
            docs.append("\n".join(f"{t} {x}" for t, x in texts))
            places.append(place)
    if not docs or not any(d.strip() for d in docs):
        return
    vectorizer = TfidfVectorizer(
        stop_words="english",
        max_features=20000,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9-]{2,}\b",  # noqa: S106  # a regular expression, not a password
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # every document was stop words only
        return
    terms = vectorizer.get_feature_names_out()
    for i, place in enumerate(places):
        row = matrix.getrow(i)
        top = sorted(zip(row.data, row.indices, strict=True), reverse=True)[: n * 2]
        chosen: list[str] = []
        for _, j in top:
            term = str(terms[j])
            if any(term in c or c in term for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n:
                break
        place.topics = chosen


def observed_people() -> QuerySet[Member]:
    """People seen only in outside conduits, busiest first."""
    return (
        Member.objects.filter(observed=True)
        .annotate(n_posts=Count("outside_posts", distinct=True))
        .prefetch_related("identities")
        .order_by("-n_posts", "name")
    )


def mentions_of(*, organization_id: int | None = None, limit: int = 20) -> list[OutsidePost]:
    qs = OutsidePost.objects.filter(mentions__isnull=False).select_related("author", "source").distinct()
    if organization_id is not None:
        qs = qs.filter(mentions__organization_id=organization_id)
    return list(qs.order_by("-occurred_at")[:limit])


# --- outside posts -------------------------------------------------------------------------


def outside_post_list(
    *, source_id: int | None = None, conduit: str = "", kind: str = "", q: str = ""
) -> QuerySet[OutsidePost]:
    """Imported posts, newest first, filtered by source, conduit and kind, and searched by
    words in their title or text (every word must appear)."""
    qs = OutsidePost.objects.select_related("source", "author")
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    if conduit:
        qs = qs.filter(conduit=conduit)
    if kind:
        qs = qs.filter(kind=kind)
    for word in q.split()[:8]:
        qs = qs.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return qs.order_by("-occurred_at", "-id")


def outside_posts_by_id(ids: list[int]) -> dict[int, OutsidePost]:
    """Outside posts by primary key, with their source and author: one query."""
    if not ids:
        return {}
    return {p.pk: p for p in OutsidePost.objects.filter(pk__in=ids).select_related("source", "author")}


def post_activity(post: OutsidePost) -> Activity:
    """The activity that records `post` being written (published, replied, messaged,
    reviewed): the one the import keyed by the post's own origin id in its source.
    Raises CONFLICT if the log lacks it (it is written with the post, so only a log edited
    by hand does)."""
    activity = Activity.objects.filter(source=post.source.key, origin_id=post.origin_id).select_related("actor").first()
    if activity is None:
        raise ApplicationError(
            ErrorCode.CONFLICT, "This outside post has no activity in the log; import its source again"
        )
    return activity


def source_names(keys: list[str]) -> dict[str, str]:
    """Sources' names by their activity-log key."""
    if not keys:
        return {}
    return dict(Source.objects.filter(key__in=keys).values_list("key", "name"))
