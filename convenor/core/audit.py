"""The audit log: who did what administrative action, with a dotted action code."""

from __future__ import annotations

from typing import Any

from django.db import models

from convenor.core.models import AuditEntry, User


def audit_log(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    summary: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record `action` (for example ``convenor.member.merged``) on `obj` by `actor`."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=obj._meta.model_name or "" if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        data=data or {},
    )


def audit_for(obj: models.Model, limit: int = 50) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type=obj._meta.model_name, object_id=str(obj.pk))
        .select_related("actor")
        .order_by("-at")[:limit]
    )
