"""The map's tables: one row per built map (the current one or a named snapshot), its nodes and lines.

Lines name their ends by the node's position (`idx`) in its map rather than by a foreign key:
a build writes hundreds of thousands of nodes and millions of lines in bulk, and numbering
the nodes itself saves a round trip for every node's primary key. The pair
``(map, idx)`` is unique, so every line end names exactly one node.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from convenor.core.constraints import one_of_choices


class LineKind(models.TextChoices):
    """The five kinds of line (see docs/map.md)."""

    CONNECTION = "connection", "Connection"
    PARTICIPATION = "participation", "Participation"
    INFLUENCE = "influence", "Influence"
    PROSPECTING = "prospecting", "Prospecting"
    CHANNEL = "channel", "Information channel"


class NodeKind(models.TextChoices):
    """What a node stands for."""

    MEMBER = "member", "Person"
    ORGANIZATION = "org", "Organisation"
    SPACE = "space", "Space"
    EVENT = "event", "Event"
    GROUP = "group", "Group"
    CONDUIT = "conduit", "Outside conduit"


class MapStatus(models.TextChoices):
    BUILDING = "building", "Building"
    READY = "ready", "Ready"


class Map(models.Model):
    """One built map: the current one (no label) or a snapshot kept under a label."""

    # Empty for the current map; a snapshot's name ("2026") otherwise, unique among snapshots.
    label = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=16, choices=MapStatus.choices, default=MapStatus.BUILDING)
    window_from = models.DateTimeField()
    window_to = models.DateTimeField()
    built_at = models.DateTimeField(default=timezone.now)
    # The settings it was built with (weights per verb) and what it took, phase by phase.
    weights = models.JSONField(default=dict, blank=True)
    seconds = models.JSONField(default=dict, blank=True)
    node_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    community_count = models.PositiveIntegerField(default=0)
    # The newest activity row taken in (by primary key), so a daily update reads only newer rows.
    last_activity_id = models.BigIntegerField(default=0)
    # Whether the daily update may fold new activity into this map (a current map built by a full
    # build that kept its declared part, see DeclaredLine), when it last did and what it took.
    updatable = models.BooleanField(default=False)
    updated_at = models.DateTimeField(null=True, blank=True)
    update_seconds = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-built_at", "-id"]
        constraints = [
            one_of_choices("status", MapStatus, "graph_map_status_valid"),
            models.UniqueConstraint(fields=["label"], condition=~Q(label=""), name="graph_map_unique_label"),
            models.CheckConstraint(condition=Q(window_to__gte=models.F("window_from")), name="graph_map_window_order"),
        ]
        indexes = [models.Index(fields=["label", "status", "-built_at"], name="graph_map_label_idx")]

    def __str__(self) -> str:
        return self.label or f"current map of {self.built_at:%Y-%m-%d %H:%M}"

    @property
    def is_snapshot(self) -> bool:
        return bool(self.label)

    @property
    def refreshed_at(self) -> datetime:
        """When the map last took in new activity: its daily update, else its full build."""
        return self.updated_at if self.updated_at and self.updated_at > self.built_at else self.built_at


class Node(models.Model):
    """A person, organisation, space, event, group or outside conduit on one map, with its scores."""

    map = models.ForeignKey(Map, on_delete=models.CASCADE, related_name="nodes", db_index=False)
    idx = models.IntegerField()
    kind = models.CharField(max_length=16, choices=NodeKind.choices)
    # The member's, organisation's, space's, event's or group's primary key; for a conduit, 0
    # (its name is the label).
    ref_id = models.BigIntegerField()
    label = models.CharField(max_length=200)
    # A person's role, an organisation's kind, a space's or event's frame; empty otherwise.
    role = models.CharField(max_length=32, blank=True)
    # A person's organisation (their first current affiliation); an organisation's own id.
    org_id = models.BigIntegerField(null=True, blank=True)
    community = models.IntegerField(null=True, blank=True)
    pagerank = models.FloatField(default=0.0)
    brokerage = models.FloatField(default=0.0)
    # Lines to other people (any kind), then lines by kind (any other end).
    degree = models.IntegerField(default=0)
    deg_connection = models.IntegerField(default=0)
    deg_participation = models.IntegerField(default=0)
    deg_influence = models.IntegerField(default=0)
    deg_prospecting = models.IntegerField(default=0)
    deg_channel = models.IntegerField(default=0)
    # People within two steps over person-to-person lines (an upper bound on huge graphs).
    reach2 = models.IntegerField(default=0)
    # For organisations: person-to-person lines among their own people, and to other people.
    internal_ties = models.IntegerField(default=0)
    external_ties = models.IntegerField(default=0)
    x = models.FloatField(default=0.0)
    y = models.FloatField(default=0.0)

    class Meta:
        ordering = ["map", "idx"]
        constraints = [
            models.UniqueConstraint(fields=["map", "idx"], name="graph_node_unique_idx"),
            one_of_choices("kind", NodeKind, "graph_node_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["map", "kind", "ref_id"], name="graph_node_ref_idx"),
            models.Index(fields=["map", "kind", "-pagerank"], name="graph_node_rank_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.label}"


class Line(models.Model):
    """A typed line between two nodes of one map, with its weight, time span and evidence."""

    map = models.ForeignKey(Map, on_delete=models.CASCADE, related_name="lines", db_index=False)
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    # Node positions (Node.idx) in the same map. Undirected lines keep source < target.
    source = models.IntegerField()
    target = models.IntegerField()
    directed = models.BooleanField(default=False)
    weight = models.FloatField()
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    # How many activities (or declarations) made the line, and which verbs or declared kinds
    # they were, as a bit set over `convenor.graph.build.BASIS` (decoded by Line.basis_names).
    evidence = models.IntegerField(default=0)
    basis = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["map", "kind", "source", "target"]
        constraints = [
            one_of_choices("kind", LineKind, "graph_line_kind_valid"),
            models.UniqueConstraint(fields=["map", "kind", "source", "target"], name="graph_line_unique_ends"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="graph_line_no_self"),
        ]
        # The unique index serves look-ups by kind; these serve a node's lines of any kind.
        indexes = [
            models.Index(fields=["map", "source"], name="graph_line_source_idx"),
            models.Index(fields=["map", "target"], name="graph_line_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source}->{self.target}"

    @property
    def basis_names(self) -> list[str]:
        from convenor.graph.build import basis_names

        return basis_names(self.basis)


class DeclaredLine(models.Model):
    """The declared part (relationships and affiliations) of the current map's lines, as folded
    by its last build or update: the daily update compares it with the declarations in force now,
    so it knows which lines a changed, ended or new declaration touches (docs/map.md).

    Bookkeeping, not read by pages: ends are node keys (`convenor.graph.build.node_key`), the kind
    is its position in `build.LINE_ORDER`, times are epoch seconds (-1 when unknown)."""

    map = models.ForeignKey(Map, on_delete=models.CASCADE, related_name="declared", db_index=False)
    kind = models.SmallIntegerField()
    source_key = models.BigIntegerField()
    target_key = models.BigIntegerField()
    weight = models.FloatField()
    evidence = models.IntegerField()
    first = models.BigIntegerField()
    last = models.BigIntegerField()
    basis = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["map", "kind", "source_key", "target_key"], name="graph_declared_unique"),
        ]

    def __str__(self) -> str:
        return f"declared {self.kind} {self.source_key}->{self.target_key}"


class DeclaredChange(models.Model):
    """A declaration (relationship or affiliation) written, changed or deleted: the pair of node
    keys it joins (before and after a change, both), so the daily update reads again only the
    declarations of those pairs (docs/map.md, "The daily update").

    Filled by triggers on the declarations' tables (migration 0003, SQLite), so every writer is
    seen: services, admin, imports, bulk and raw updates, cascades. An AUTOINCREMENT id that
    never goes back: a map keeps the highest it took in; rows below it are pruned, always
    keeping the highest, so a missing row shows as a gap and the update reads everything."""

    source_key = models.BigIntegerField()
    target_key = models.BigIntegerField()

    def __str__(self) -> str:
        return f"declaration changed {self.source_key}-{self.target_key}"
