"""Spaces, threads and posts: where employees and customers talk to each other directly."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from convenor.core.constraints import one_of_choices
from convenor.people.models import Member, Organization

DEFAULT_CHARTER = """\
This is a community space. We are here to help one another get more out of what we use:
ask, answer, share what you learned, and say what you need.

- No selling. Do not pitch products or services, post rate cards, or invite people to
  private sales conversations, whoever you work for (our own staff included). Commercial
  spaces exist for that.
- Be kind and specific. Disagree with ideas, not people.
- Keep customers' confidences. Do not share another organisation's private details.
"""


class Frame(models.TextChoices):
    """Why a space exists; shown on every page of it."""

    COMMUNITY = "community", "Community"
    COMMERCIAL = "commercial", "Commercial"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: anyone can read"
    MEMBERS = "members", "Members: logged-in members"
    ACCOUNT = "account", "Account: one customer's people and their employees"
    GROUP = "group", "Group: the members of one group"


class PostState(models.TextChoices):
    """Whether a post (or a thread, by its opening post) is shown: community spaces hold pitches."""

    PUBLISHED = "published", "Published"
    HELD = "held", "Held for the charter"
    REJECTED = "rejected", "Rejected"


DEFAULT_CHARTER_THRESHOLD = 0.5


class Space(models.Model):
    """A place for conversations, framed as community or commercial."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    frame = models.CharField(max_length=16, choices=Frame.choices)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.MEMBERS)
    # The customer organisation whose private space this is (visibility "account").
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="spaces"
    )
    # The hot group whose space this is (visibility "group"); the hotgroups app owns groups.
    group_id = models.BigIntegerField(null=True, blank=True)
    charter = models.TextField(blank=True)
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    thread_count = models.PositiveIntegerField(default=0)
    post_count = models.PositiveIntegerField(default=0)
    # Bumped (with F()) by every change that alters what the space page shows of its threads:
    # the anonymous page cache (convenor/web/pagecache.py) keys on it.
    version = models.PositiveIntegerField(default=0, db_default=0)
    # A post in a community space whose promotional probability is over this is held.
    charter_threshold = models.FloatField(default=DEFAULT_CHARTER_THRESHOLD, db_default=DEFAULT_CHARTER_THRESHOLD)

    class Meta:
        ordering = ["name"]
        constraints = [
            one_of_choices("frame", Frame, "spaces_space_frame_valid"),
            one_of_choices("visibility", Visibility, "spaces_space_visibility_valid"),
            models.CheckConstraint(
                condition=~Q(visibility="account") | Q(organization__isnull=False),
                name="spaces_space_account_has_organization",
            ),
            models.CheckConstraint(
                condition=~Q(visibility="group") | Q(group_id__isnull=False),
                name="spaces_space_group_has_group",
            ),
            # One private space per customer account.
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(visibility="account"),
                name="spaces_space_one_account_space",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SpaceRole(models.TextChoices):
    MEMBER = "member", "Member"
    MODERATOR = "moderator", "Moderator"


class MembershipState(models.TextChoices):
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Member"
    LEFT = "left", "Left"
    REMOVED = "removed", "Removed"


class SpaceMembership(models.Model):
    """A member's place in a space: invited, joined, left; member or moderator."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="space_memberships")
    role = models.CharField(max_length=16, choices=SpaceRole.choices, default=SpaceRole.MEMBER)
    state = models.CharField(max_length=16, choices=MembershipState.choices, default=MembershipState.ACTIVE)
    invited_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "member"], name="spaces_spacemembership_unique"),
            one_of_choices("state", MembershipState, "spaces_spacemembership_state_valid"),
            one_of_choices("role", SpaceRole, "spaces_spacemembership_role_valid"),
        ]
        indexes = [models.Index(fields=["member", "state"], name="spaces_membership_member_idx")]

    def __str__(self) -> str:
        return f"{self.member} in {self.space} ({self.state})"


class ThreadKind(models.TextChoices):
    DISCUSSION = "discussion", "Discussion"
    QUESTION = "question", "Question"


class Thread(models.Model):
    """A conversation in a space; its first post is the opening post."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="threads")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ThreadKind.choices, default=ThreadKind.DISCUSSION)
    author = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="threads")
    created_at = models.DateTimeField(default=timezone.now)
    last_post_at = models.DateTimeField(default=timezone.now)
    pinned = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    # The author (or a moderator) asks for an answer from staff.
    needs_staff = models.BooleanField(default=False)
    accepted_post = models.ForeignKey("Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Denormalised counters, kept with F() and repaired by thread_recount().
    reply_count = models.PositiveIntegerField(default=0)
    staff_reply_count = models.PositiveIntegerField(default=0)
    reaction_count = models.PositiveIntegerField(default=0)
    # Bumped (with F()) by every change to the thread or its posts (reply, edit, reaction,
    # accepted answer, pin, lock, flag): the thread page cache keys on it.
    version = models.PositiveIntegerField(default=0, db_default=0)
    # Held while its opening post is held: seen only by its author and the space's moderators.
    state = models.CharField(
        max_length=16, choices=PostState.choices, default=PostState.PUBLISHED, db_default="published"
    )

    class Meta:
        ordering = ["-pinned", "-last_post_at"]
        constraints = [
            one_of_choices("kind", ThreadKind, "spaces_thread_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["space", "-pinned", "-last_post_at"], name="spaces_thread_latest_idx"),
            models.Index(fields=["space", "reply_count"], name="spaces_thread_unanswered_idx"),
            models.Index(fields=["author", "-created_at"], name="spaces_thread_author_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    """One message in a thread, written in Markdown and stored with its sanitised HTML."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="posts")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    body = models.TextField()
    html = models.TextField()
    # The words of the post without Markdown or HTML: what search indexes and quotes.
    text = models.TextField(blank=True, default="")
    # Whether the author was staff when they wrote it: the badge does not change later.
    by_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    reaction_count = models.PositiveIntegerField(default=0)
    # Held and rejected posts are seen only by their author and the space's moderators.
    state = models.CharField(
        max_length=16, choices=PostState.choices, default=PostState.PUBLISHED, db_default="published"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["thread", "created_at"], name="spaces_post_thread_idx"),
            models.Index(fields=["author", "-created_at"], name="spaces_post_author_idx"),
            # A reader's held or rejected posts in a thread (few; most posts are published),
            # asked on every logged-in thread page: selectors.thread_and_reader_facts writes this
            # condition as it is here, so SQLite uses the index.
            models.Index(
                fields=["thread", "author"], name="spaces_post_unpublished_idx", condition=~Q(state=PostState.PUBLISHED)
            ),
        ]

    def __str__(self) -> str:
        return f"post {self.pk} in {self.thread_id}"


class PostRevision(models.Model):
    """An earlier text of an edited post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at"]

    def __str__(self) -> str:
        return f"revision of post {self.post_id}"


class ReactionKind(models.TextChoices):
    LIKE = "like", "👍"
    THANKS = "thanks", "🙏"
    INSIGHTFUL = "insightful", "💡"
    CELEBRATE = "celebrate", "🎉"


class Reaction(models.Model):
    """A member's reaction to a post; one of each kind per person."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(max_length=16, choices=ReactionKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "member", "kind"], name="spaces_reaction_unique"),
            one_of_choices("kind", ReactionKind, "spaces_reaction_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.kind} {self.post_id}"


class Mention(models.Model):
    """A member @mentioned in a post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="spaces_mention_unique")]

    def __str__(self) -> str:
        return f"@{self.member} in {self.post_id}"


class Follow(models.Model):
    """A member following a space or a thread, for notifications and digests."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="follows")
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.CASCADE, related_name="follows")
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(space__isnull=False) & Q(thread__isnull=True))
                | (Q(space__isnull=True) & Q(thread__isnull=False)),
                name="spaces_follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["member", "space"],
                condition=Q(space__isnull=False),
                name="spaces_follow_unique_space",
            ),
            models.UniqueConstraint(
                fields=["member", "thread"],
                condition=Q(thread__isnull=False),
                name="spaces_follow_unique_thread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} follows {self.space or self.thread}"


class CharterCheck(models.Model):
    """The charter check of a held post: its score, the reasons shown to its author, and the review."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="charter_check")
    # None when the detector was unavailable (no model file): the post waits for a moderator.
    score = models.FloatField(null=True, blank=True)
    threshold = models.FloatField()
    # Each reason: {"phrase", "weight", "kind", "signal", "describe"}, strongest first.
    reasons = models.JSONField(default=list, blank=True)
    unavailable = models.BooleanField(default=False)
    checked_at = models.DateTimeField(default=timezone.now)
    review_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"charter check of post {self.post_id}"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"
    MOVE = "move", "Moved to a commercial space"


class ModerationDecision(models.Model):
    """A moderator's decision on a held post; append-only, the measure of the detector's errors."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="moderation_decisions")
    # The community space the post was held in (a moved post's thread changes space later).
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="moderation_decisions")
    moderator = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True)
    # The text decided on, kept for retraining even if the post is edited later.
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            one_of_choices("decision", Decision, "spaces_moderationdecision_decision_valid"),
        ]
        indexes = [models.Index(fields=["space", "created_at"], name="spaces_decision_space_idx")]

    def __str__(self) -> str:
        return f"{self.decision} post {self.post_id}"
