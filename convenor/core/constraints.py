"""Database invariants shared by every app's models."""

from __future__ import annotations

from django.db import models


def one_of_choices(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """A check that `field` holds one of `choices`' values, named ``<app>_<model>_<rule>``.

    The database refuses an unknown state, kind or role however the row is written (bulk
    inserts and raw SQL included), not only through forms and services.
    """
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": [c.value for c in choices]}), name=name)
