"""Reading the activity log."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from convenor.activity.models import Activity
from convenor.people.models import Member


def activity_timeline(*, member: Member) -> QuerySet[Activity]:
    """What `member` did and what was done to them, newest first."""
    return (
        Activity.objects.filter(Q(actor=member) | Q(target_member=member))
        .select_related("actor", "target_member", "target_org")
        .order_by("-occurred_at", "-id")
    )


def activity_in_window(*, start: datetime, end: datetime) -> QuerySet[Activity]:
    """Activities with ``start <= occurred_at < end``; the map and metrics read windows."""
    return Activity.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
