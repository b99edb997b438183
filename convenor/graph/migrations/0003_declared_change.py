"""The change log of declarations (graph_declaredchange) and the triggers that fill it (SQLite)."""

from typing import Any

from django.db import migrations, models

# Node keys as convenor.graph.build makes them (kind code << 40 plus the id): members are kind 0,
# organisations kind 1. Fixed here, as a migration must be.
MEMBER = 0
ORG = 1 << 40

REL_SOURCE = f"COALESCE({MEMBER} + {{r}}.source_member_id, {ORG} + {{r}}.source_org_id)"
REL_TARGET = f"COALESCE({MEMBER} + {{r}}.target_member_id, {ORG} + {{r}}.target_org_id)"
AFF_SOURCE = f"{MEMBER} + {{r}}.member_id"
AFF_TARGET = f"{ORG} + {{r}}.organization_id"
# Only the columns a declared line is made of: an edited evidence text or title is no change.
REL_COLUMNS = "kind, source_member_id, source_org_id, target_member_id, target_org_id, strength, started_on, ended_on, created_at"
AFF_COLUMNS = "member_id, organization_id, started_on, ended_on"


def _triggers() -> list[tuple[str, str]]:
    out = []
    for name, table, source, target, columns in (
        ("rel", "people_relationship", REL_SOURCE, REL_TARGET, REL_COLUMNS),
        ("aff", "people_affiliation", AFF_SOURCE, AFF_TARGET, AFF_COLUMNS),
    ):
        log = "INSERT INTO graph_declaredchange (source_key, target_key) VALUES"
        new = f"({source.format(r='NEW')}, {target.format(r='NEW')})"
        old = f"({source.format(r='OLD')}, {target.format(r='OLD')})"
        out += [
            (f"graph_declared_{name}_insert", f"AFTER INSERT ON {table} BEGIN {log} {new}; END"),
            (f"graph_declared_{name}_update", f"AFTER UPDATE OF {columns} ON {table} BEGIN {log} {old}, {new}; END"),
            (f"graph_declared_{name}_delete", f"AFTER DELETE ON {table} BEGIN {log} {old}; END"),
        ]
    return out


TRIGGERS = _triggers()


def create_triggers(apps: Any, schema_editor: Any) -> None:
    # PostgreSQL has no triggers here: there the daily update reads every declaration in force.
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, body in TRIGGERS:
        schema_editor.execute(f"CREATE TRIGGER {name} {body}")


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, _ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("graph", "0002_incremental_update"),
        ("people", "0004_segments_observed_demand"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeclaredChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source_key", models.BigIntegerField()),
                ("target_key", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
