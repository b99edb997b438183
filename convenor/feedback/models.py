"""Feedback's tables: boards, ideas, votes, comments, follows, status history, and where
each idea came from (posts, outside activities)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from convenor.activity.models import Activity
from convenor.core.constraints import one_of_choices
from convenor.people.models import Member, Organization
from convenor.spaces.models import Post, Space, Thread


class BoardVisibility(models.TextChoices):
    PUBLIC = "public", "Public: anyone can read"
    MEMBERS = "members", "Members: logged-in members"
    ACCOUNT = "account", "Account: one customer's people and their employees"


class IdeaStatus(models.TextChoices):
    NEW = "new", "New"
    UNDER_REVIEW = "under_review", "Under review"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    DECLINED = "declined", "Declined"


# Ideas in these statuses take no new votes.
CLOSED_STATUSES = frozenset({IdeaStatus.SHIPPED, IdeaStatus.DECLINED})


class Importance(models.IntegerChoices):
    """How important an idea is to a voter (optional)."""

    NICE = 1, "Nice to have"
    IMPORTANT = 2, "Important"
    CRITICAL = 3, "Critical"


class Board(models.Model):
    """A place where ideas are collected: public, for members, or private to one customer account."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=16, choices=BoardVisibility.choices, default=BoardVisibility.MEMBERS)
    # The customer organisation whose private board this is (visibility "account").
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback_boards"
    )
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Ideas on the board that were not merged away; kept with F() and repaired by the recount.
    idea_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [
            one_of_choices("visibility", BoardVisibility, "feedback_board_visibility_valid"),
            models.CheckConstraint(
                condition=Q(visibility="account", organization__isnull=False)
                | (~Q(visibility="account") & Q(organization__isnull=True)),
                name="feedback_board_account_has_organization",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Idea(models.Model):
    """A suggestion on a board, with its votes, status and the conversations it came from."""

    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="ideas")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The person credited with the idea: the author of the post it came from, or who submitted it.
    author = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas")
    # Who wrote it down (a staff member turning a customer's post into an idea).
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=IdeaStatus.choices, default=IdeaStatus.NEW)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    # What the changelog says about it once shipped (the note of the "shipped" change).
    changelog_note = models.TextField(blank=True)
    # Denormalised counters, kept with F() and repaired by idea_recount().
    vote_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    follower_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-vote_count", "-created_at"]
        constraints = [
            one_of_choices("status", IdeaStatus, "feedback_idea_status_valid"),
            models.CheckConstraint(condition=~Q(title=""), name="feedback_idea_title_not_empty"),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=models.F("pk")),
                name="feedback_idea_not_merged_into_itself",
            ),
        ]
        indexes = [
            models.Index(fields=["board", "-vote_count"], name="feedback_idea_board_top_idx"),
            models.Index(fields=["board", "-created_at"], name="feedback_idea_board_new_idx"),
            models.Index(fields=["status", "-shipped_at"], name="feedback_idea_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.merged_into_id is None and self.status not in CLOSED_STATUSES


class Vote(models.Model):
    """One person's vote for an idea, with how important it is to them."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="idea_votes")
    importance = models.PositiveSmallIntegerField(choices=Importance.choices, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "member"], name="feedback_vote_one_per_person"),
            models.CheckConstraint(
                condition=Q(importance__isnull=True) | Q(importance__in=Importance.values),
                name="feedback_vote_importance_valid",
            ),
        ]
        indexes = [models.Index(fields=["idea", "created_at"], name="feedback_vote_idea_time_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} votes {self.idea_id}"


class IdeaFollow(models.Model):
    """A member following an idea: they hear when its status changes."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="follows")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="idea_follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "member"], name="feedback_ideafollow_unique")]

    def __str__(self) -> str:
        return f"{self.member_id} follows {self.idea_id}"


class IdeaComment(models.Model):
    """A comment on an idea."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="idea_comments")
    body = models.TextField()
    by_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["idea", "created_at"], name="feedback_comment_idea_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.idea_id}"


class StatusChange(models.Model):
    """One change of an idea's status, with its note: the idea's history, append-only."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=IdeaStatus.choices)
    to_status = models.CharField(max_length=16, choices=IdeaStatus.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # What closing the loop did: {"notified": n, "replies": [post ids], "announcements": [thread ids]}.
    loop = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            one_of_choices("from_status", IdeaStatus, "feedback_statuschange_from_valid"),
            one_of_choices("to_status", IdeaStatus, "feedback_statuschange_to_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.idea_id}: {self.from_status} → {self.to_status}"


class SourceKind(models.TextChoices):
    POST = "post", "A post in a space"
    ACTIVITY = "activity", "An activity from an outside conduit"


class IdeaSource(models.Model):
    """Where an idea came from: a post (and its thread and space) or an imported activity.

    The person credited is kept even if the post is deleted later.
    """

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="idea_sources")
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The conduit an activity came from (its source), for "where demand comes from".
    conduit = models.CharField(max_length=100, blank=True)
    author = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    linked_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    excerpt = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            one_of_choices("kind", SourceKind, "feedback_ideasource_kind_valid"),
            models.UniqueConstraint(
                fields=["idea", "post"], condition=Q(post__isnull=False), name="feedback_ideasource_unique_post"
            ),
            models.UniqueConstraint(
                fields=["idea", "activity"],
                condition=Q(activity__isnull=False),
                name="feedback_ideasource_unique_activity",
            ),
        ]
        indexes = [
            models.Index(fields=["thread"], name="feedback_source_thread_idx", condition=Q(thread__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for idea {self.idea_id}"
