"""Accounts, API tokens and the audit log: the parts of Convenor that know no domain."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from convenor.core.constraints import one_of_choices


class StaffRole(models.TextChoices):
    NONE = "", "Not staff"
    ADMIN = "admin", "Admin"
    COMMUNITY_MANAGER = "community_manager", "Community manager"
    SALES = "sales", "Sales"
    PRODUCT = "product", "Product"


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("staff_role", StaffRole.ADMIN)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who can log in: an employee with a staff role, or a community member."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    staff_role = models.CharField(max_length=32, choices=StaffRole.choices, blank=True, default="")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [one_of_choices("staff_role", StaffRole, "core_user_staff_role_valid")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_staff(self) -> bool:
        # Django's admin site asks for `is_staff`; only the admin role may use it.
        return self.staff_role == StaffRole.ADMIN

    @property
    def is_employee_staff(self) -> bool:
        """True for any staff role: admin, community manager, sales, product."""
        return bool(self.staff_role)


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a hash of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AuditEntry(models.Model):
    """One recorded administrative action, with a dotted action code such as ``convenor.member.merged``."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=50, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class Notification(models.Model):
    """Something a person should know: shown in the app, and emailed or put in a digest.

    ``place_kind``/``place_id`` name where it happened (a space, an event) so that the list
    can hide what the person may no longer see.
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500)
    actor_name = models.CharField(max_length=200, blank=True)
    place_kind = models.CharField(max_length=32, blank=True)
    place_id = models.BigIntegerField(null=True, blank=True)
    # Ties repeated notifications of one event together: one per recipient and key.
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="core_notification_unique_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="core_notif_unread_idx"),
            models.Index(fields=["recipient", "-created_at"], name="core_notif_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.title}"


class DigestFrequency(models.TextChoices):
    NEVER = "never", "Never"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class NotificationPrefs(models.Model):
    """How a person wants to hear from us: an email for each notification, and a digest."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_prefs")
    email_each = models.BooleanField(default=True)
    digest = models.CharField(max_length=16, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "notification preferences"
        constraints = [one_of_choices("digest", DigestFrequency, "core_notificationprefs_digest_valid")]

    def __str__(self) -> str:
        return f"{self.user}: each={self.email_each} digest={self.digest}"
