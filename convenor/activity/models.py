"""The activity log: every interaction between people, recorded once."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from convenor.core.constraints import one_of_choices
from convenor.people.models import Member, Organization

NATIVE_SOURCE = "convenor"


class Verb(models.TextChoices):
    """The one vocabulary of interactions. Lines, metrics and groups are derived from it."""

    # conversations
    POSTED = "posted", "posted"
    REPLIED = "replied", "replied to"
    MENTIONED = "mentioned", "mentioned"
    REACTED = "reacted", "reacted to"
    QUOTED = "quoted", "quoted"
    ANSWER_ACCEPTED = "answer_accepted", "had an answer accepted by"
    JOINED_SPACE = "joined_space", "joined"
    LEFT_SPACE = "left_space", "left"
    MESSAGED = "messaged", "messaged"
    # events
    REGISTERED = "registered", "registered for"
    ATTENDED = "attended", "attended"
    HOSTED = "hosted", "hosted"
    SPOKE = "spoke", "spoke at"
    # feedback
    SUBMITTED_IDEA = "submitted_idea", "submitted"
    VOTED = "voted", "voted for"
    COMMENTED = "commented", "commented on"
    # groups
    JOINED_GROUP = "joined_group", "joined"
    # outside conduits
    REVIEWED = "reviewed", "reviewed"
    PUBLISHED = "published", "published"
    # commerce and people
    MET = "met", "met"
    CONTACTED = "contacted", "contacted"
    INTRODUCED = "introduced", "introduced"
    # An employee's commercial interest in a person: a buyer-intent registration for an
    # event the employee owns. Draws a prospecting line on the map.
    PROSPECTED = "prospected", "prospecting"


class Activity(models.Model):
    """Who did what, to what or whom, where and when, and where the record came from.

    Append-only, idempotent on ``(source, origin_id)``. Merging two members is the one
    operation that rewrites rows (it moves them to the surviving member).
    """

    # No single-column index on actor or target_member: the (actor, -occurred_at) and
    # (target_member, -occurred_at) indexes below serve every look-up by either.
    actor = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="activities", db_index=False)
    verb = models.CharField(max_length=32, choices=Verb.choices)
    target_member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities_received",
        db_index=False,
    )
    target_org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The thing acted on when it is not a person: ("post", 12), ("event", 3), ("idea", 7).
    object_kind = models.CharField(max_length=32, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    # Where it happened: a space, event, group or outside conduit, as (kind, id).
    place_kind = models.CharField(max_length=32, blank=True)
    place_id = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=100, default=NATIVE_SOURCE)
    origin_id = models.CharField(max_length=255)
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "origin_id"], name="activity_activity_unique_origin"),
            one_of_choices("verb", Verb, "activity_activity_verb_valid"),
        ]
        indexes = [
            # a member's timeline, newest first
            models.Index(fields=["actor", "-occurred_at"], name="activity_actor_time_idx"),
            models.Index(fields=["target_member", "-occurred_at"], name="activity_target_time_idx"),
            # time windows for the map and metrics
            models.Index(fields=["occurred_at", "verb"], name="activity_time_verb_idx"),
            # Partial: rows without an object, place or target organisation are never looked
            # up by them, and leaving them out keeps bulk imports cheaper.
            models.Index(
                fields=["object_kind", "object_id"], name="activity_object_idx", condition=~models.Q(object_kind="")
            ),
            models.Index(
                fields=["place_kind", "place_id"], name="activity_place_idx", condition=~models.Q(place_kind="")
            ),
            models.Index(
                fields=["target_org"], name="activity_target_org_idx", condition=models.Q(target_org__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.verb} @ {self.occurred_at:%Y-%m-%d}"
