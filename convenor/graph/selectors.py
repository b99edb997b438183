"""Reads of the map for other apps (hot groups, feedback, pages).

These four functions are the contract other apps rely on; their signatures stay as they are.
They read the stored results of the latest `map build` (never recompute the map).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class NodeScore:
    """A person's standing on the latest map."""

    member_id: int
    pagerank: float  # weighted PageRank on influence lines (sums to 1 over people)
    brokerage: float  # betweenness, normalised to 0..1 over the map
    community: int | None  # Leiden community id, None when the person has no lines
    degree: int  # lines of any kind to other people


def map_built_at() -> datetime | None:
    """When the current map was last built, or None if it never was."""
    raise NotImplementedError


def node_scores(member_ids: Collection[int] | None = None) -> dict[int, NodeScore]:
    """Scores of the given people (all people on the map when None). People not on the map are absent."""
    raise NotImplementedError


def connected_pairs(member_ids: Collection[int]) -> set[tuple[int, int]]:
    """Pairs (a, b) with a < b among `member_ids` joined by any person-to-person line
    (connection or influence, either direction) on the current map."""
    raise NotImplementedError


def neighbours(member_ids: Collection[int]) -> dict[int, set[int]]:
    """For each given person, the people one line away (any person-to-person line) on the current map."""
    raise NotImplementedError
