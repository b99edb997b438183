"""Listening's tables: outside sources, their import runs, the posts read from them, the
brand lexicon and the brand mentions found in the posts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from convenor.core.constraints import one_of_choices
from convenor.people.models import Member, Organization


class Conduit(models.TextChoices):
    """The kinds of outside conduit where people talk about a business."""

    REVIEWS = "reviews", "Review site"
    BLOG = "blog", "Blog"
    FORUM = "forum", "E-community"
    CHAT = "chat", "Social or chat"
    MAILING_LIST = "mailing_list", "Mailing list"
    CRM = "crm", "CRM"


class ImporterKind(models.TextChoices):
    """Which importer reads a source."""

    RSS = "rss", "RSS or Atom feed"
    DISCOURSE = "discourse", "Discourse forum"
    SLACK = "slack", "Slack export"
    MBOX = "mbox", "Mailing-list archive (mbox)"
    REVIEWS = "reviews", "Reviews (CSV or JSON)"


# The conduit a source gets by default from its importer.
CONDUIT_FOR = {
    ImporterKind.RSS: Conduit.BLOG,
    ImporterKind.DISCOURSE: Conduit.FORUM,
    ImporterKind.SLACK: Conduit.CHAT,
    ImporterKind.MBOX: Conduit.MAILING_LIST,
    ImporterKind.REVIEWS: Conduit.REVIEWS,
}


class Source(models.Model):
    """One outside conduit we listen to: a feed, a forum, a Slack workspace, a list, a review site."""

    name = models.CharField(max_length=200)
    # The activity log's `source` and the people Identity `source` for this conduit, such as
    # "slack:acme-community": a source's own ids are unique within it.
    key = models.CharField(max_length=100, unique=True)
    importer = models.CharField(max_length=16, choices=ImporterKind.choices)
    conduit = models.CharField(max_length=16, choices=Conduit.choices)
    url = models.URLField(blank=True, max_length=500)
    refresh_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fetch the URL again this often (for `convenor listen refresh`); empty: never."
    )
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            one_of_choices("importer", ImporterKind, "listening_source_importer_valid"),
            one_of_choices("conduit", Conduit, "listening_source_conduit_valid"),
            models.CheckConstraint(
                condition=Q(refresh_minutes__isnull=True) | Q(refresh_minutes__gte=5),
                name="listening_source_refresh_min",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_due(self) -> bool:
        if not self.url or not self.refresh_minutes:
            return False
        if self.last_fetched_at is None:
            return True
        return (timezone.now() - self.last_fetched_at).total_seconds() >= self.refresh_minutes * 60


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    NOT_MODIFIED = "not_modified", "Not modified"


class ImportRun(models.Model):
    """One import of a file or URL into a source: counts, progress, duration and outcome."""

    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    importer = models.CharField(max_length=16, choices=ImporterKind.choices)
    filename = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    activities = models.PositiveIntegerField(default=0)
    people_created = models.PositiveIntegerField(default=0)
    # Progress in whatever unit the importer knows ahead (records, or files in an archive).
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0.0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A web upload waiting for its background import (deleted when the run ends).
    upload_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            one_of_choices("importer", ImporterKind, "listening_importrun_importer_valid"),
            one_of_choices("status", RunStatus, "listening_importrun_status_valid"),
        ]
        indexes = [models.Index(fields=["source", "-started_at"], name="listening_run_source_idx")]

    def __str__(self) -> str:
        return f"{self.importer} {self.filename} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.NOT_MODIFIED)

    @property
    def percent(self) -> int:
        """How far the run got: a finished one 100, a failed one where it stopped (0 for a
        file refused before any record was read, so a refusal never shows a full bar)."""
        if self.status in (RunStatus.DONE, RunStatus.NOT_MODIFIED):
            return 100
        return min(100, 100 * self.progress_done // self.progress_total) if self.progress_total else 0


class Rejection(models.Model):
    """A record an import could not take, with where it is and why."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    file = models.CharField(max_length=500)
    position = models.CharField(max_length=100, help_text="A line, a record number or an id in the file.")
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.file} {self.position}: {self.reason}"


class PostKind(models.TextChoices):
    POST = "post", "Post"
    REPLY = "reply", "Reply"
    MESSAGE = "message", "Chat message"
    REVIEW = "review", "Review"


# The activity log's `object_kind` for an outside post: its activities point at it by this and its id.
OUTSIDE_POST = "outside_post"


class OutsidePost(models.Model):
    """Something said in an outside conduit: a blog post or comment, a forum post, a chat
    message, a mail, a review. Its activity rows point at it (object_kind "outside_post")."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="posts", db_index=False)
    origin_id = models.CharField(max_length=255)
    conduit = models.CharField(max_length=16, choices=Conduit.choices)
    kind = models.CharField(max_length=16, choices=PostKind.choices)
    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="outside_posts")
    # Where in the source: a Slack channel, a forum category, a list, a feed.
    space = models.CharField(max_length=200, blank=True)
    thread_origin = models.CharField(max_length=255, blank=True)
    parent_origin = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    rating = models.FloatField(null=True, blank=True)
    # VADER's compound score in [-1, 1]; null when not scored (chat lines without a brand).
    sentiment = models.FloatField(null=True, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "origin_id"], name="listening_outsidepost_unique_origin"),
            one_of_choices("conduit", Conduit, "listening_outsidepost_conduit_valid"),
            one_of_choices("kind", PostKind, "listening_outsidepost_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["conduit", "occurred_at"], name="listening_post_conduit_idx"),
            # A source's posts newest first (the Outside posts list and the API filtered by
            # source, a source's page): read backwards along this index, without a sort.
            # The unique (source, origin_id) one finds the rows but not in that order. The id
            # is the order's tie-break; SQLite keeps it in every index anyway, PostgreSQL not.
            models.Index(fields=["source", "occurred_at", "id"], name="listening_post_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.origin_id}"


class BrandAlias(models.Model):
    """A word or phrase that names a brand: our company, one of our products, a competitor."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="brand_aliases")
    alias = models.CharField(max_length=100)

    class Meta:
        ordering = ["organization", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "alias"], name="listening_brandalias_unique"),
        ]

    def __str__(self) -> str:
        return self.alias


class BrandMention(models.Model):
    """One outside post naming one brand (ours or a competitor), with the post's sentiment."""

    post = models.ForeignKey(OutsidePost, on_delete=models.CASCADE, related_name="mentions", db_index=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ours = models.BooleanField()
    conduit = models.CharField(max_length=16, choices=Conduit.choices)
    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_index=False)
    sentiment = models.FloatField(null=True, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["post", "organization"], name="listening_brandmention_unique"),
        ]
        indexes = [models.Index(fields=["occurred_at", "ours"], name="listening_mention_time_idx")]

    def __str__(self) -> str:
        return f"{self.post_id} → {self.organization_id}"
