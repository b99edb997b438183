"""The map's demo step: the current map, and last year's snapshot for the year-over-year page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from convenor.core.errors import ApplicationError
from convenor.graph.models import Map
from convenor.graph.services import build_map, snapshot_create


def build(*, seed: int, progress: Callable[[int, int], None]) -> dict[str, int]:
    """Build the current map and a snapshot of the year before it (labelled by that year)."""
    now = timezone.now()
    counts: dict[str, int] = {}
    previous = str(now.year - 1)
    if not Map.objects.filter(label=previous).exists():
        try:
            snap = snapshot_create(
                label=previous, start=now - timedelta(days=730), end=now - timedelta(days=365), progress=progress
            )
            counts["snapshot lines"] = snap.lines
        except ApplicationError:
            counts["snapshot lines"] = 0  # nothing happened that year in a small demo
    result = build_map(window_days=365, progress=progress)
    counts["map nodes"] = result.nodes
    counts["map lines"] = result.lines
    counts["communities"] = result.communities
    return counts
