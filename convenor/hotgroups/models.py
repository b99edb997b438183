"""Hot groups's tables: topics found in the community's text, people's interests in them,
suggested groups, convened groups with their members, and word-of-mouth measurements."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from convenor.core.constraints import one_of_choices
from convenor.events.models import Event, EventSeries
from convenor.people.models import Member, Organization
from convenor.spaces.models import Space


class TopicModel(models.Model):
    """One fit of the topic model (TF-IDF + NMF) on the community's text; the newest is current."""

    fitted_at = models.DateTimeField(default=timezone.now)
    # The fitted vectorizer and NMF, pickled with joblib and zlib-compressed: kept in the
    # database rather than a file so that every web process and worker sees the same model.
    blob = models.BinaryField()
    n_topics = models.PositiveIntegerField()
    n_terms = models.PositiveIntegerField()
    # Documents the model was fitted on (a sample at scale) and documents projected in all.
    fit_docs = models.PositiveIntegerField(default=0)
    projected_docs = models.PositiveIntegerField(default=0)
    # The newest post projected so far: the incremental run projects posts after it.
    last_post_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    profiled_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-fitted_at", "-id"]

    def __str__(self) -> str:
        return f"topic model {self.pk} ({self.n_topics} topics)"


class Topic(models.Model):
    """One topic of a topic model, labelled by its top terms."""

    model = models.ForeignKey(TopicModel, on_delete=models.CASCADE, related_name="topics")
    index = models.PositiveIntegerField(help_text="The topic's column in the model.")
    label = models.CharField(max_length=200)
    terms = models.JSONField(default=list, help_text="Top terms, strongest first.")
    # The declared interest this topic is closest to, if any, shown beside the label.
    interest_name = models.CharField(max_length=100, blank=True)
    # Share of the corpus's topic weight: how much the community talks about it.
    share = models.FloatField(default=0.0)
    holders = models.PositiveIntegerField(default=0, help_text="People holding it well above average.")

    class Meta:
        ordering = ["model", "index"]
        constraints = [
            models.UniqueConstraint(fields=["model", "index"], name="hotgroups_topic_unique_index"),
        ]

    def __str__(self) -> str:
        return self.label


class MemberInterest(models.Model):
    """A person's interest in a topic: a share of their profile (0..1) and where it comes from."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="topic_interests", db_index=False)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="interests", db_index=False)
    share = models.FloatField(help_text="The topic's share of the person's whole profile.")
    declared = models.FloatField(default=0.0)
    written = models.FloatField(default=0.0)
    attended = models.FloatField(default=0.0)
    voted = models.FloatField(default=0.0)
    # share divided by the topic's average share over the community: "well above
    # average" reads this.
    ratio = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "topic"], name="hotgroups_memberinterest_unique"),
            models.CheckConstraint(condition=Q(share__gte=0) & Q(share__lte=1), name="hotgroups_memberinterest_share"),
        ]
        indexes = [models.Index(fields=["topic", "-ratio"], name="hotgroups_interest_topic_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} in topic {self.topic_id}: {self.share:.2f}"


class PostTopic(models.Model):
    """A post's strongest topic, for measuring how far a topic spreads (one row per post)."""

    post_id = models.BigIntegerField(primary_key=True)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+", db_index=False)
    author_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    weight = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["topic", "created_at"], name="hotgroups_posttopic_time_idx")]

    def __str__(self) -> str:
        return f"post {self.post_id}: topic {self.topic_id}"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONVENED = "convened", "Convened"
    DISMISSED = "dismissed", "Dismissed"


class Suggestion(models.Model):
    """A proposed hot group for one topic, with its score and the reasons in words."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="suggestions")
    score = models.FloatField()
    explanation = models.TextField()
    # Figures behind the explanation: shared terms, roles, organisations, connectors, pairs.
    details = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-score", "-id"]
        constraints = [one_of_choices("status", SuggestionStatus, "hotgroups_suggestion_status_valid")]
        indexes = [models.Index(fields=["topic", "created_at"], name="hotgroups_suggestion_topic_idx")]

    def __str__(self) -> str:
        return f"suggestion {self.pk} for {self.topic}"


class SuggestionMember(models.Model):
    """One person in a suggestion, as they were when it was made."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=32)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    share = models.FloatField()
    ratio = models.FloatField()
    connector = models.BooleanField(default=False)

    class Meta:
        ordering = ["suggestion", "-connector", "-ratio", "id"]
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "member"], name="hotgroups_suggestionmember_unique"),
        ]
        indexes = [models.Index(fields=["member"], name="hotgroups_sugmember_member_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} in suggestion {self.suggestion_id}"


class GroupState(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Group(models.Model):
    """A convened hot group: its space, its recurring gatherings and its facilitator."""

    name = models.CharField(max_length=120)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="groups")
    # The topic's label when convened, kept if the topic model is refitted.
    topic_label = models.CharField(max_length=200)
    topic_terms = models.JSONField(default=list)
    suggestion = models.OneToOneField(
        Suggestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="group"
    )
    space = models.OneToOneField(Space, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    series = models.OneToOneField(EventSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    facilitator = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="facilitated_groups")
    cadence = models.CharField(max_length=32, help_text="weekly or monthly, with its interval.")
    state = models.CharField(max_length=16, choices=GroupState.choices, default=GroupState.ACTIVE)
    # Figures at convening, the baseline for health: pairs already joined, neighbours on the map.
    baseline = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [one_of_choices("state", GroupState, "hotgroups_group_state_valid")]

    def __str__(self) -> str:
        return self.name


class GroupMemberState(models.TextChoices):
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Member"
    DECLINED = "declined", "Declined"
    LEFT = "left", "Left"
    REMOVED = "removed", "Removed"


LIVE_STATES = (GroupMemberState.INVITED, GroupMemberState.ACTIVE)


class GroupMember(models.Model):
    """A person's place in a group: invited, accepted, declined, left or removed."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="group_memberships")
    state = models.CharField(max_length=16, choices=GroupMemberState.choices, default=GroupMemberState.INVITED)
    facilitator = models.BooleanField(default=False)
    invited_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group", "-facilitator", "member__name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "member"], name="hotgroups_groupmember_unique"),
            one_of_choices("state", GroupMemberState, "hotgroups_groupmember_state_valid"),
        ]
        indexes = [models.Index(fields=["member", "state"], name="hotgroups_gm_member_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} in group {self.group_id} ({self.state})"


class Spread(models.Model):
    """How far a group's topic spread after one gathering: the members' first-degree
    neighbours' posts on the topic 30 days after vs 30 days before, against a matched control."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="spreads")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    measured_at = models.DateTimeField(default=timezone.now)
    window_days = models.PositiveSmallIntegerField(default=30)
    treated = models.PositiveIntegerField(help_text="Neighbours measured.")
    controls = models.PositiveIntegerField(help_text="Matched people not convened.")
    treated_before = models.FloatField()
    treated_after = models.FloatField()
    control_before = models.FloatField()
    control_after = models.FloatField()
    # Difference in differences: topic posts per neighbour, after minus before, beyond the control's change.
    lift = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    complete = models.BooleanField(default=True, help_text="False while the 30 days after are not over.")

    class Meta:
        ordering = ["group", "event__starts_at"]
        constraints = [models.UniqueConstraint(fields=["group", "event"], name="hotgroups_spread_unique")]

    def __str__(self) -> str:
        return f"spread of group {self.group_id} after event {self.event_id}: {self.lift:+.2f}"
