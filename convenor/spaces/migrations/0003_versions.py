"""A version on threads and spaces, bumped by every change their pages show (the page cache keys on it).

On SQLite a plain ALTER TABLE ADD COLUMN: Django's AddField would rebuild spaces_thread,
and dropping the old table takes the full-text triggers that mention it with it.
"""

from django.db import migrations, models

TABLES = {"space": "spaces_space", "thread": "spaces_thread"}


def _field() -> models.PositiveIntegerField:  # type: ignore[type-arg]  # the untyped migration field
    return models.PositiveIntegerField(db_default=0, default=0)


def add_columns(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration hook
    for model_name, table in TABLES.items():
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(
                f'ALTER TABLE "{table}" ADD COLUMN "version" integer unsigned NOT NULL DEFAULT 0 CHECK ("version" >= 0)'
            )
        else:
            model = apps.get_model("spaces", model_name)
            field = _field()
            field.set_attributes_from_name("version")
            field.model = model
            schema_editor.add_field(model, field)


def drop_columns(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration hook
    for table in TABLES.values():
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN "version"')


class Migration(migrations.Migration):
    dependencies = [("spaces", "0002_search_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
            state_operations=[
                migrations.AddField(model_name="space", name="version", field=_field()),
                migrations.AddField(model_name="thread", name="version", field=_field()),
            ],
        )
    ]
