"""Events framed as community or commercial, their hosts, registrations (with intent) and surveys."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from convenor.core.constraints import one_of_choices
from convenor.people.models import Member, Organization
from convenor.spaces.models import Frame, Space, Visibility

__all__ = [
    "CheckState",
    "Event",
    "EventRole",
    "EventSeries",
    "Frame",
    "Intent",
    "Recurrence",
    "Registration",
    "RegistrationState",
    "RoleKind",
    "Survey",
    "Visibility",
]


class Recurrence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    CUSTOM = "custom", "Custom dates"


class CheckState(models.TextChoices):
    """Where a community event's description stands with the charter."""

    OK = "ok", "Checked: no selling found"
    HELD = "held", "Held: the description reads as selling"
    UNCHECKED = "unchecked", "Not checked: the detector was unavailable"


class EventSeries(models.Model):
    """A recurring gathering: the rule its occurrences (events) were generated from."""

    title = models.CharField(max_length=200)
    recurrence = models.CharField(max_length=16, choices=Recurrence.choices)
    # Every `interval` weeks or months; unused for custom dates.
    interval = models.PositiveSmallIntegerField(default=1)
    # Occurrences are generated up to this date (inclusive), in the event's time zone.
    horizon = models.DateField()
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "event series"
        constraints = [
            one_of_choices("recurrence", Recurrence, "events_eventseries_recurrence_valid"),
            models.CheckConstraint(condition=Q(interval__gte=1), name="events_eventseries_interval_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.recurrence})"


class Event(models.Model):
    """A gathering with a stated frame; commercial ones carry their brief."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The description rendered from Markdown and sanitised (convenor.spaces.markdown.render).
    description_html = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The IANA zone the event is held in ("Europe/Paris"): calendars show it in that zone.
    time_zone = models.CharField(max_length=64, default="UTC")
    place = models.CharField(max_length=300, blank=True)
    online_url = models.URLField(max_length=500, blank=True)
    # Null means unlimited seats.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    # Null means registration stays open until the event ends.
    registration_closes_at = models.DateTimeField(null=True, blank=True)
    frame = models.CharField(max_length=16, choices=Frame.choices)
    # The commercial brief, shown to registrants; required for commercial events.
    brief_audience = models.TextField("who it targets", blank=True)
    brief_reason = models.TextField("why they want to hear it", blank=True)
    brief_offer = models.TextField("what is offered", blank=True)
    brief_payment = models.TextField("how they pay", blank=True)
    # The employee who follows up buyers; buyer registrations draw prospecting lines from them.
    commercial_owner = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_commercial_events"
    )
    # An event in a space is read by whoever reads the space; otherwise `visibility` decides.
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    group_id = models.BigIntegerField(null=True, blank=True)
    # The customer organisation whose people may see an "account" event.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.MEMBERS)
    series = models.ForeignKey(
        EventSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The charter check of a community event's description (commercial events are "ok").
    check_state = models.CharField(max_length=16, choices=CheckState.choices, default=CheckState.UNCHECKED)
    check_score = models.FloatField(null=True, blank=True)
    check_reasons = models.JSONField(default=list, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # iCalendar SEQUENCE: raised on every change calendars must pick up.
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            one_of_choices("frame", Frame, "events_event_frame_valid"),
            one_of_choices("visibility", Visibility, "events_event_visibility_valid"),
            one_of_choices("check_state", CheckState, "events_event_check_state_valid"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="events_event_ends_after_start"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1), name="events_event_capacity_positive"
            ),
            models.CheckConstraint(
                condition=Q(registration_closes_at__isnull=True) | Q(registration_closes_at__lte=F("ends_at")),
                name="events_event_closes_before_end",
            ),
            models.CheckConstraint(
                condition=~Q(frame="commercial")
                | (
                    ~Q(brief_audience="")
                    & ~Q(brief_reason="")
                    & ~Q(brief_offer="")
                    & ~Q(brief_payment="")
                    & Q(commercial_owner__isnull=False)
                ),
                name="events_event_commercial_has_brief",
            ),
            models.CheckConstraint(
                condition=~Q(visibility="account") | Q(organization__isnull=False),
                name="events_event_account_has_organization",
            ),
            models.CheckConstraint(
                condition=~Q(visibility="group") | Q(group_id__isnull=False) | Q(space__isnull=False),
                name="events_event_group_has_group",
            ),
        ]
        indexes = [
            models.Index(fields=["starts_at"], name="events_event_starts_idx"),
            models.Index(fields=["space", "starts_at"], name="events_event_space_idx"),
            models.Index(fields=["frame", "starts_at"], name="events_event_frame_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_held(self) -> bool:
        return self.check_state == CheckState.HELD

    @property
    def closes_at(self) -> datetime:
        """When registration closes: the set time, or the end of the event."""
        return self.registration_closes_at or self.ends_at

    @property
    def brief(self) -> dict[str, str]:
        """The commercial brief as labelled lines (empty for community events)."""
        if self.frame != Frame.COMMERCIAL:
            return {}
        return {
            "Who it targets": self.brief_audience,
            "Why they want to hear it": self.brief_reason,
            "What is offered": self.brief_offer,
            "How they pay": self.brief_payment,
        }


class RoleKind(models.TextChoices):
    HOST = "host", "Host"
    SPEAKER = "speaker", "Speaker"


class EventRole(models.Model):
    """A member hosting or speaking at an event; hosts organise it."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="roles")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="event_roles")
    role = models.CharField(max_length=16, choices=RoleKind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "member", "role"], name="events_eventrole_unique"),
            one_of_choices("role", RoleKind, "events_eventrole_role_valid"),
        ]
        indexes = [models.Index(fields=["member", "role"], name="events_eventrole_member_idx")]

    def __str__(self) -> str:
        return f"{self.member} {self.role} at {self.event_id}"


class Intent(models.TextChoices):
    """Why a registrant comes."""

    USER = "user", "I use it and want to get more out of it"
    BUYER = "buyer", "I am evaluating or buying"
    OTHER = "other", "Other"


class RegistrationState(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    WAITLISTED = "waitlisted", "On the waitlist"
    CANCELLED = "cancelled", "Cancelled"


class Registration(models.Model):
    """A member's registration for an event, with why they come and whether they came."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="registrations")
    intent = models.CharField(max_length=16, choices=Intent.choices)
    state = models.CharField(max_length=16, choices=RegistrationState.choices)
    # Order on the waitlist (1 is first); set only while waitlisted. Numbers are not
    # reused or closed up when someone ahead leaves: only their order matters.
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended_at = models.DateTimeField(null=True, blank=True)
    no_show = models.BooleanField(default=False)
    # The registrant was told the frame does not match their intent and registered anyway.
    acknowledged_frame_mismatch = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            one_of_choices("intent", Intent, "events_registration_intent_valid"),
            one_of_choices("state", RegistrationState, "events_registration_state_valid"),
            models.CheckConstraint(
                condition=(Q(state="waitlisted") & Q(waitlist_position__isnull=False))
                | (~Q(state="waitlisted") & Q(waitlist_position__isnull=True)),
                name="events_registration_position_iff_waitlisted",
            ),
            # One live registration per member and event; cancelled ones stay as history.
            models.UniqueConstraint(
                fields=["event", "member"],
                condition=~Q(state="cancelled"),
                name="events_registration_one_active",
            ),
            models.UniqueConstraint(
                fields=["event", "waitlist_position"],
                condition=Q(state="waitlisted"),
                name="events_registration_unique_position",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "state"], name="events_reg_event_state_idx"),
            models.Index(fields=["member", "state"], name="events_reg_member_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member} for {self.event_id} ({self.state})"


class Survey(models.Model):
    """An attendee's answer to "Was the session what its framing promised?" (1 to 5) and a comment."""

    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="survey")
    fit = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(fit__gte=1) & Q(fit__lte=5), name="events_survey_fit_range"),
        ]

    def __str__(self) -> str:
        return f"fit {self.fit} for registration {self.registration_id}"
