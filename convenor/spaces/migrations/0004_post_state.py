"""A state on posts and threads (published, held, rejected) and a charter threshold per space.

On SQLite a plain ALTER TABLE ADD COLUMN, as in 0003_versions: Django's AddField would rebuild
spaces_post and spaces_thread, and dropping the old tables takes the full-text triggers with them.
"""

from django.db import migrations, models

STATE_SQL = "varchar(16) NOT NULL DEFAULT 'published'"
COLUMNS = [
    ("post", "spaces_post", "state", STATE_SQL),
    ("thread", "spaces_thread", "state", STATE_SQL),
    ("space", "spaces_space", "charter_threshold", "real NOT NULL DEFAULT 0.5"),
]
CHOICES = [("published", "Published"), ("held", "Held for the charter"), ("rejected", "Rejected")]


def _state() -> models.CharField:  # type: ignore[type-arg]  # the untyped migration field
    return models.CharField(max_length=16, choices=CHOICES, default="published", db_default="published")


def _threshold() -> models.FloatField:  # type: ignore[type-arg]  # the untyped migration field
    return models.FloatField(default=0.5, db_default=0.5)


FIELDS = {"state": _state, "charter_threshold": _threshold}


def add_columns(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration hook
    for model_name, table, column, sql in COLUMNS:
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {sql}')
        else:
            model = apps.get_model("spaces", model_name)
            field = FIELDS[column]()
            field.set_attributes_from_name(column)
            field.model = model
            schema_editor.add_field(model, field)


def drop_columns(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration hook
    for _model, table, column, _sql in COLUMNS:
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


class Migration(migrations.Migration):
    dependencies = [("spaces", "0003_versions")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
            state_operations=[
                migrations.AddField(model_name="post", name="state", field=_state()),
                migrations.AddField(model_name="thread", name="state", field=_state()),
                migrations.AddField(model_name="space", name="charter_threshold", field=_threshold()),
            ],
        )
    ]
