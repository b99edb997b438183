"""The one path from parsed records to the database: resolve authors, upsert the outside
posts, find brand mentions, and record the activities with activity.services.record_many.

Records are written in batches, each in its own transaction (members, identities, posts,
mentions, activities and the batch's rejections together), so an import interrupted
part-way leaves whole batches only, and running it again skips what is there: it ends
with exactly what one clean run gives. Memory stays flat: one batch, plus one dict of
authors per run (it grows with the number of people, not of messages).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, reset_queries, transaction
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import ActivityRecord, record_many
from convenor.core.bulk import rows_where_in, sqlite_pragma
from convenor.listening import sentiment
from convenor.listening.identity import Resolver
from convenor.listening.importers.base import Author, Item, Parsed, Reject, Skip, fit_id
from convenor.listening.lexicon import Lexicon, load_lexicon
from convenor.listening.models import (
    OUTSIDE_POST,
    BrandMention,
    Conduit,
    ImportRun,
    OutsidePost,
    PostKind,
    Rejection,
    Source,
)

BATCH = 10_000  # posts per transaction: fewer, larger commits write each index page less often
SQLITE_CACHE_KIB = 128 * 1024  # 128 MB at most, for the run only
MAX_STORED_REJECTIONS = 10_000  # past this a run counts rejections without listing them
OBJECT_KIND = OUTSIDE_POST
PLACE_KIND = "conduit"

VERB_FOR_KIND = {
    PostKind.POST: Verb.PUBLISHED,
    PostKind.REPLY: Verb.REPLIED,
    PostKind.MESSAGE: Verb.MESSAGED,
    PostKind.REVIEW: Verb.REVIEWED,
}
_FIELDS = (
    "kind",
    "author_id",
    "space",
    "thread_origin",
    "parent_origin",
    "title",
    "text",
    "url",
    "rating",
    "occurred_at",
)


@dataclass(slots=True)
class Row:
    """What the pipeline keeps of a post it writes (model instances cost too much per row)."""

    pk: int
    origin_id: str
    author_id: int
    occurred_at: datetime
    sentiment: float | None


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    activities: int = 0
    rejections: list[Reject] = field(default_factory=list)


def _scored(conduit: str, item: Item, brands: set[int]) -> float | None:
    # Every post, review and mail is scored; chat lines only when they name a brand: a
    # one-line "thanks!" says little, and VADER would cost more than the rest of the import.
    if conduit == Conduit.CHAT and not brands:
        return None
    return sentiment.score(f"{item.title}\n{item.text}" if item.title else item.text)


_NUL = "\x00"
# The columns' lengths (OutsidePost, Identity, Member): PostgreSQL refuses a longer value.
# Ids are fitted with fit_id (a digest of the whole id at the end), not cut.
_ID_FIELDS = ("origin_id", "thread_origin", "parent_origin")
_ITEM_LIMITS = (
    ("space", 200),
    ("title", 500),
    ("url", 1000),
    ("text", 0),
)
MAX_EMAIL = 254


def _no_nul(value: str) -> str:
    return value.replace(_NUL, "") if _NUL in value else value


def _fitted_author(a: Author) -> Author:
    if (
        len(a.key) > 255
        or len(a.name) > 200
        or len(a.email) > MAX_EMAIL
        or len(a.handle) > 255
        or _NUL in a.key + a.name + a.email + a.handle
    ):
        email = _no_nul(a.email)
        return Author(
            key=fit_id(_no_nul(a.key)),
            name=_no_nul(a.name)[:200],
            email=email if len(email) <= MAX_EMAIL else "",  # no real address is longer
            handle=_no_nul(a.handle)[:255],
        )
    return a


def fitted(item: Item) -> Item:
    """The item as the database can hold it: NUL characters dropped (PostgreSQL's text
    columns refuse them, so a JSON "\\u0000" or a zero byte in a CSV failed the whole
    batch) and values cut to their columns' lengths (which SQLite never checks and
    PostgreSQL does), so the same file gives the same rows on both. Ids too long for their
    columns keep their start and a digest of the whole (fit_id), so they stay apart."""
    for name in _ID_FIELDS:
        setattr(item, name, fit_id(_no_nul(getattr(item, name))))
    for name, limit in _ITEM_LIMITS:
        value = getattr(item, name)
        if _NUL in value:
            value = value.replace(_NUL, "")
            setattr(item, name, value)
        if limit and len(value) > limit:
            setattr(item, name, value[:limit])
    item.author = _fitted_author(item.author)
    if item.reactions:
        item.reactions = [(_fitted_author(a), _no_nul(n)[:100]) for a, n in item.reactions]
    return item


class Pipeline:
    def __init__(self, *, source: Source, run: ImportRun) -> None:
        self.source = source
        self.run = run
        self.resolver = Resolver(source_key=source.key, source_name=source.name)
        self.lexicon: Lexicon = load_lexicon()
        self.stored_rejections = 0

    def consume(self, records: Iterable[Parsed]) -> None:
        it: Iterator[Parsed] = iter(records)
        while batch := list(islice(it, BATCH)):
            self._batch(batch)
            # With DEBUG on (the default install), Django keeps the SQL of the last 9,000
            # queries, and a batch's look-ups list 2,000 origin ids each: tens of KB a query,
            # so memory grew with the export until the cap. An import keeps none of them.
            reset_queries()

    def _batch(self, batch: list[Parsed]) -> None:
        counts = Counts()
        items: dict[str, Item] = {}
        for rec in batch:
            if isinstance(rec, Item):
                rec = fitted(rec)
                if rec.origin_id in items:
                    counts.skipped += 1  # the same record twice in one file
                items[rec.origin_id] = rec
            elif isinstance(rec, Reject):
                counts.rejected += 1
                counts.rejections.append(rec)
            elif isinstance(rec, Skip):
                counts.skipped += 1
        with transaction.atomic():
            if items:
                self._write(list(items.values()), counts)
            room = MAX_STORED_REJECTIONS - self.stored_rejections
            if counts.rejections and room > 0:
                Rejection.objects.bulk_create(
                    [
                        Rejection(
                            run=self.run,
                            file=_no_nul(r.file)[:500],
                            position=_no_nul(r.position)[:100],
                            reason=_no_nul(r.reason)[:500],
                        )
                        for r in counts.rejections[:room]
                    ]
                )
                self.stored_rejections += min(room, len(counts.rejections))
            run = self.run
            run.created += counts.created
            run.updated += counts.updated
            run.skipped += counts.skipped
            run.rejected += counts.rejected
            run.activities += counts.activities
            run.people_created = self.resolver.people_created
            run.seconds = (timezone.now() - run.started_at).total_seconds()
            run.save(
                update_fields=["created", "updated", "skipped", "rejected", "activities", "people_created", "seconds"]
            )

    def _write(self, items: list[Item], counts: Counts) -> None:
        source = self.source
        authors: dict[str, Author] = {}
        for item in items:
            authors.setdefault(item.author.key, item.author)
            for reactor, _ in item.reactions:
                authors.setdefault(reactor.key, reactor)
        self.resolver.resolve(authors)
        member = self.resolver.members

        existing: dict[str, tuple[int, int, str, str, float | None, str]] = {
            row[0]: row[1:]
            for row in _posts(source, [i.origin_id for i in items], "id", "author_id", "title", "text", "rating", "url")
        }
        fresh: list[tuple[Item, Row, set[int]]] = []
        changed: list[tuple[Item, Row, set[int]]] = []
        for item in items:
            brands = self.lexicon.find(item.title, item.text)
            author_id = member[item.author.key]
            old = existing.get(item.origin_id)
            if old is None:
                row = Row(0, item.origin_id, author_id, item.occurred_at, _scored(source.conduit, item, brands))
                fresh.append((item, row, brands))
            elif old[2:] != (item.title, item.text, item.rating, item.url) and (item.text or not old[3]):
                # (A record without text, such as a Discourse topic seen only in the topic
                # list, never blanks a text imported before.)
                row = Row(old[0], item.origin_id, author_id, item.occurred_at, _scored(source.conduit, item, brands))
                changed.append((item, row, brands))
            else:
                counts.skipped += 1
        if fresh:
            _insert_posts(source, fresh)
            ids = dict(_posts(source, [r.origin_id for _, r, _ in fresh], "id"))
            for _, r, _ in fresh:
                r.pk = ids[r.origin_id]
        if changed:
            OutsidePost.objects.bulk_update(
                [
                    OutsidePost(pk=r.pk, sentiment=r.sentiment, author_id=r.author_id, **_values(item))
                    for item, r, _ in changed
                ],
                [*_FIELDS, "sentiment"],
            )
            # A changed text may name other brands: its mentions are found again.
            BrandMention.objects.filter(post__in=[r.pk for _, r, _ in changed]).delete()
        counts.created += len(fresh)
        counts.updated += len(changed)
        written = fresh + changed
        BrandMention.objects.bulk_create(
            [
                BrandMention(
                    post_id=post.pk,
                    organization_id=org,
                    ours=org in self.lexicon.ours,
                    conduit=source.conduit,
                    author_id=post.author_id,
                    sentiment=post.sentiment,
                    occurred_at=post.occurred_at,
                )
                for _, post, brands in written
                for org in brands
            ],
            ignore_conflicts=True,
        )
        counts.activities += record_many(self._activities(written, existing), batch_size=2 * BATCH)

    def _activities(
        self,
        written: list[tuple[Item, Row, set[int]]],
        existing: dict[str, tuple[int, int, str, str, float | None, str]],
    ) -> Iterator[ActivityRecord]:
        source = self.source
        member = self.resolver.members
        author_of = {p.origin_id: p.author_id for _, p, _ in written}
        author_of.update({o: row[1] for o, row in existing.items()})
        parents = {i.parent_origin for i, _, _ in written if i.parent_origin and i.parent_origin not in author_of}
        if parents:
            author_of.update(_posts(source, list(parents), "author_id"))
        for item, post, brands in written:
            common = {
                "source": source.key,
                "occurred_at": item.occurred_at,
                "object_kind": OBJECT_KIND,
                "object_id": post.pk,
                "place_kind": PLACE_KIND,
                "place_id": source.pk,
            }
            target = author_of.get(item.parent_origin) if item.parent_origin else None
            yield ActivityRecord(
                actor_id=post.author_id,
                verb=VERB_FOR_KIND[PostKind(item.kind)],
                origin_id=item.origin_id,
                target_member_id=target if target != post.author_id else None,
                data={"space": item.space} if item.space else {},
                **common,  # type: ignore[arg-type]  # the keys above are ActivityRecord's fields
            )
            for reactor, name in item.reactions:
                yield ActivityRecord(
                    actor_id=member[reactor.key],
                    verb=Verb.REACTED,
                    origin_id=fit_id(f"{item.origin_id}:react:{name}:{reactor.key}"),
                    target_member_id=post.author_id,
                    data={"reaction": name},
                    **common,  # type: ignore[arg-type]
                )
            for org in brands:
                yield ActivityRecord(
                    actor_id=post.author_id,
                    verb=Verb.MENTIONED,
                    origin_id=fit_id(f"{item.origin_id}:mention:{org}"),
                    target_org_id=org,
                    **common,  # type: ignore[arg-type]
                )


_POST_COLUMNS = (
    "source_id",
    "origin_id",
    "conduit",
    "kind",
    "author_id",
    "space",
    "thread_origin",
    "parent_origin",
    "title",
    "text",
    "url",
    "rating",
    "sentiment",
    "occurred_at",
)


def _insert_posts(source: Source, fresh: list[tuple[Item, Row, set[int]]]) -> None:
    """One executemany of plain tuples (bulk_create's per-row ORM compilation cost more
    than the rest of an import); the batch's look-up just before guarantees they are new."""
    ops = connection.ops
    table = ops.quote_name(OutsidePost._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _POST_COLUMNS)
    marks = ", ".join(["%s"] * len(_POST_COLUMNS))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608  # quoted names, values as parameters
    rows = [
        (
            source.pk,
            i.origin_id,
            source.conduit,
            i.kind,
            r.author_id,
            i.space,
            i.thread_origin,
            i.parent_origin,
            i.title,
            i.text,
            i.url,
            i.rating,
            r.sentiment,
            ops.adapt_datetimefield_value(i.occurred_at),
        )
        for i, r, _ in fresh
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _posts(source: Source, origins: list[str], *columns: str) -> list[tuple[Any, ...]]:
    """(origin_id, *columns) of the source's posts with these origin ids."""
    return rows_where_in(
        table=OutsidePost._meta.db_table,
        columns=("origin_id", *columns),
        fixed={"source_id": source.pk},
        key="origin_id",
        values=origins,
    )


def _values(item: Item) -> dict[str, object]:
    return {
        "kind": item.kind,
        "space": item.space,
        "thread_origin": item.thread_origin,
        "parent_origin": item.parent_origin,
        "title": item.title,
        "text": item.text,
        "url": item.url,
        "rating": item.rating,
        "occurred_at": item.occurred_at,
    }


def run_pipeline(*, source: Source, run: ImportRun, records: Iterable[Parsed]) -> ImportRun:
    started = time.monotonic()
    pipeline = Pipeline(source=source, run=run)
    # On SQLite, a page cache of its own size for the run: each batch inserts into the activity
    # log's and the posts' indexes at scattered places, and with SQLite's default 2 MB cache most
    # of those pages are read back from the file again.
    with sqlite_pragma("cache_size", -SQLITE_CACHE_KIB):
        pipeline.consume(records)
    run.seconds = time.monotonic() - started
    return run
