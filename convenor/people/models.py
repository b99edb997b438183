"""People and organisations, and the declared lines between them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from convenor.core.constraints import one_of_choices


class OrgKind(models.TextChoices):
    OURS = "ours", "Our company"
    CUSTOMER = "customer", "Customer"
    PROSPECT = "prospect", "Prospect"
    SUPPLIER = "supplier", "Supplier"
    PARTNER = "partner", "Partner"
    COMPETITOR = "competitor", "Competitor"
    CUSTOMERS_CUSTOMER = "customers_customer", "Customer's customer"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    """A person's role in the business community."""

    EMPLOYEE = "employee", "Employee"
    CUSTOMER = "customer", "Customer"
    SUPPLIER = "supplier", "Supplier"
    PARTNER = "partner", "Partner"
    PROSPECT = "prospect", "Prospect"
    COMPETITOR_CONTACT = "competitor_contact", "Competitor contact"
    OTHER = "other", "Other"


class RelationshipKind(models.TextChoices):
    COLLEAGUE = "colleague", "Colleague of"
    KNOWS = "knows", "Knows"
    REPORTS_TO = "reports_to", "Reports to"
    CUSTOMER_OF = "customer_of", "Customer of"
    SUPPLIES = "supplies", "Supplies"
    PARTNER_OF = "partner_of", "Partner of"
    COMPETES_WITH = "competes_with", "Competes with"
    WORKS_WITH = "works_with", "Works with"
    ADVISES = "advises", "Advises"
    OTHER = "other", "Other"


# Kinds that read the same both ways; the service stores them with the smaller key first
# so that "A competes with B" and "B competes with A" are one row.
SYMMETRIC_KINDS = frozenset(
    {
        RelationshipKind.COLLEAGUE,
        RelationshipKind.KNOWS,
        RelationshipKind.PARTNER_OF,
        RelationshipKind.COMPETES_WITH,
        RelationshipKind.WORKS_WITH,
    }
)


class Interest(models.Model):
    """A declared interest, such as "data pipelines"; members pick several."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    """A company or body in the business community: ours, a customer, a supplier, a competitor."""

    name = models.CharField(max_length=200)
    # Lower-cased name, unique, so "ACME" and "Acme" are one organisation.
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    kind = models.CharField(max_length=32, choices=OrgKind.choices, default=OrgKind.OTHER)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    industry = models.CharField(
        max_length=100, blank=True, default="", db_default="", help_text="A segment: the industry it works in."
    )
    demand_weight = models.FloatField(
        default=1.0,
        db_default=1.0,
        help_text="How much this organisation's votes weigh in the demand for product (set by staff).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            one_of_choices("kind", OrgKind, "people_organization_kind_valid"),
            # Only one organisation can be "our company".
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="ours"), name="people_organization_one_ours"),
        ]
        indexes = [models.Index(fields=["kind", "name"], name="people_org_kind_name_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_key = self.name.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]  # passes Model.save's own arguments through


class Domain(models.Model):
    """A web or email domain that belongs to an organisation (``acme.com``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class Member(models.Model):
    """A person in the business community, whether or not they have an account."""

    name = models.CharField(max_length=200)
    # Primary email, lower-cased; further addresses are identities of source "email".
    email = models.EmailField(null=True, blank=True, unique=True)
    # The name used in @mentions: lower-case letters, digits, dots, dashes, underscores.
    handle = models.CharField(max_length=60, null=True, blank=True, unique=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.OTHER)
    title = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    location = models.CharField(max_length=200, blank=True)
    interests = models.ManyToManyField(Interest, blank=True, related_name="members")
    consent_to_contact = models.BooleanField(
        default=True, help_text="Off when the person opted out of being contacted."
    )
    # Members listed in the community directory are visible to other members.
    listed = models.BooleanField(default=True)
    observed = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Seen only in an outside conduit (a review, a blog, a Slack export): on the map, not a member yet.",
    )
    meets_competitors = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Agrees to be convened in a group with people from organisations that compete with their own.",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            one_of_choices("role", Role, "people_member_role_valid"),
        ]
        indexes = [
            models.Index(fields=["role", "name"], name="people_member_role_name_idx"),
            models.Index(fields=["name"], name="people_member_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Affiliation(models.Model):
    """A member's place at an organisation over a period; a person can have several."""

    # The (member, ended_on) and (organization, ended_on) indexes serve look-ups by either
    # alone, so the foreign keys need no index of their own.
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="affiliations", db_index=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="affiliations", db_index=False
    )
    title = models.CharField(max_length=200, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-started_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=models.F("started_on")),
                name="people_affiliation_ends_after_start",
            ),
            # One open affiliation per member and organisation.
            models.UniqueConstraint(
                fields=["member", "organization"],
                condition=Q(ended_on__isnull=True),
                name="people_affiliation_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "ended_on"], name="people_aff_org_idx"),
            models.Index(fields=["member", "ended_on"], name="people_aff_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member} at {self.organization}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None or self.ended_on >= timezone.localdate()


class Identity(models.Model):
    """A member's id, handle or email in one source (Slack, Discourse, a CRM, email)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="identities")
    source = models.CharField(max_length=100, help_text="For example slack, discourse, crm, email.")
    external_id = models.CharField(max_length=255, help_text="The id in that source.")
    handle = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source", "external_id"]
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="people_identity_unique_per_source"),
        ]
        indexes = [
            models.Index(fields=["source", "handle"], name="people_identity_handle_idx"),
            models.Index(fields=["email"], name="people_identity_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.handle or self.external_id}"


class Relationship(models.Model):
    """A declared, typed line between two members, two organisations, or a member and an organisation.

    Exactly one of ``source_member``/``source_org`` and one of ``target_member``/``target_org`` is set.
    """

    kind = models.CharField(max_length=32, choices=RelationshipKind.choices)
    # The unique indexes below lead with the source, so they serve look-ups by source too.
    source_member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_out", db_index=False
    )
    source_org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_out", db_index=False
    )
    target_member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_in"
    )
    target_org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_in"
    )
    directed = models.BooleanField(default=True)
    strength = models.FloatField(default=1.0)
    evidence = models.TextField(blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            one_of_choices("kind", RelationshipKind, "people_relationship_kind_valid"),
            models.CheckConstraint(
                condition=(Q(source_member__isnull=False) & Q(source_org__isnull=True))
                | (Q(source_member__isnull=True) & Q(source_org__isnull=False)),
                name="people_relationship_one_source",
            ),
            models.CheckConstraint(
                condition=(Q(target_member__isnull=False) & Q(target_org__isnull=True))
                | (Q(target_member__isnull=True) & Q(target_org__isnull=False)),
                name="people_relationship_one_target",
            ),
            models.CheckConstraint(
                condition=Q(strength__gt=0) & Q(strength__lte=100),
                name="people_relationship_strength_range",
            ),
            models.CheckConstraint(
                condition=~Q(source_member=models.F("target_member")) | Q(source_member__isnull=True),
                name="people_relationship_no_self_member",
            ),
            models.CheckConstraint(
                condition=~Q(source_org=models.F("target_org")) | Q(source_org__isnull=True),
                name="people_relationship_no_self_org",
            ),
            # One line of a kind between the same two ends. NULLs are distinct in unique
            # indexes, so each shape (member/org at either end) gets its own partial index.
            models.UniqueConstraint(
                fields=["source_member", "target_member", "kind"],
                condition=Q(source_member__isnull=False, target_member__isnull=False),
                name="people_relationship_unique_mm",
            ),
            models.UniqueConstraint(
                fields=["source_member", "target_org", "kind"],
                condition=Q(source_member__isnull=False, target_org__isnull=False),
                name="people_relationship_unique_mo",
            ),
            models.UniqueConstraint(
                fields=["source_org", "target_member", "kind"],
                condition=Q(source_org__isnull=False, target_member__isnull=False),
                name="people_relationship_unique_om",
            ),
            models.UniqueConstraint(
                fields=["source_org", "target_org", "kind"],
                condition=Q(source_org__isnull=False, target_org__isnull=False),
                name="people_relationship_unique_oo",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_kind_display().lower()} {self.target}"

    @property
    def source(self) -> Member | Organization:
        end = self.source_member or self.source_org
        assert end is not None
        return end

    @property
    def target(self) -> Member | Organization:
        end = self.target_member or self.target_org
        assert end is not None
        return end


class MergeReason(models.TextChoices):
    SAME_EMAIL = "same_email", "Same email address"
    SAME_HANDLE = "same_handle", "Same handle in a source"
    SAME_NAME_ORG = "same_name_org", "Same name at the same organisation"


class MergeSuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Dismissed"


class MergeSuggestion(models.Model):
    """Two members who may be one person, waiting for a person to decide."""

    member_a = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    member_b = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=32, choices=MergeReason.choices)
    detail = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=MergeSuggestionStatus.choices, default=MergeSuggestionStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            # Stored with the smaller id first, so a pair is suggested once.
            models.CheckConstraint(
                condition=Q(member_a__lt=models.F("member_b")), name="people_mergesuggestion_ordered"
            ),
            models.UniqueConstraint(fields=["member_a", "member_b"], name="people_mergesuggestion_unique_pair"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="people_mergesug_status_idx")]

    def __str__(self) -> str:
        return f"{self.member_a} / {self.member_b} ({self.reason})"


class MemberMerge(models.Model):
    """The record of one member merged into another, kept after the merged row is gone."""

    survivor = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="merges")
    merged_member_id = models.BigIntegerField(db_index=True)
    merged_name = models.CharField(max_length=200)
    merged_email = models.CharField(max_length=254, blank=True)
    moved = models.JSONField(default=dict, help_text="Counts of rows moved, by kind.")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_name} merged into {self.survivor}"
