"""The full-text index over posts: FTS5 on SQLite, a generated tsvector on PostgreSQL.

Both index the post's plain text and its thread's title. On SQLite, triggers keep the FTS5 table
in step with every insert, update and delete (bulk inserts included); on PostgreSQL
triggers keep a weighted tsvector per post (title A, text B) indexed with GIN.
"""

from django.db import migrations

SQLITE_UP = [
    "CREATE VIRTUAL TABLE spaces_post_fts USING fts5(title, body, tokenize='porter unicode61')",
    """CREATE TRIGGER spaces_post_fts_ai AFTER INSERT ON spaces_post BEGIN
        INSERT INTO spaces_post_fts(rowid, title, body)
        VALUES (new.id, (SELECT title FROM spaces_thread WHERE id = new.thread_id), new.text);
    END""",
    """CREATE TRIGGER spaces_post_fts_au AFTER UPDATE OF text ON spaces_post BEGIN
        UPDATE spaces_post_fts SET body = new.text WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER spaces_post_fts_ad AFTER DELETE ON spaces_post BEGIN
        DELETE FROM spaces_post_fts WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER spaces_thread_fts_au AFTER UPDATE OF title ON spaces_thread BEGIN
        UPDATE spaces_post_fts SET title = new.title
        WHERE rowid IN (SELECT id FROM spaces_post WHERE thread_id = new.id);
    END""",
    "INSERT INTO spaces_post_fts(rowid, title, body) "
    "SELECT p.id, t.title, p.text FROM spaces_post p JOIN spaces_thread t ON t.id = p.thread_id",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS spaces_thread_fts_au",
    "DROP TRIGGER IF EXISTS spaces_post_fts_ad",
    "DROP TRIGGER IF EXISTS spaces_post_fts_au",
    "DROP TRIGGER IF EXISTS spaces_post_fts_ai",
    "DROP TABLE IF EXISTS spaces_post_fts",
]
_PG_VECTOR = (
    "setweight(to_tsvector('english', coalesce({title}, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce({text}, '')), 'B')"
)
POSTGRES_UP = [
    "ALTER TABLE spaces_post ADD COLUMN search tsvector",
    f"""CREATE FUNCTION spaces_post_search_fill() RETURNS trigger AS $$
    BEGIN
        NEW.search := {_PG_VECTOR.format(title="(SELECT title FROM spaces_thread WHERE id = NEW.thread_id)", text="NEW.text")};
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER spaces_post_search_biu BEFORE INSERT OR UPDATE OF text, thread_id ON spaces_post "
    "FOR EACH ROW EXECUTE FUNCTION spaces_post_search_fill()",
    f"""CREATE FUNCTION spaces_thread_title_changed() RETURNS trigger AS $$
    BEGIN
        UPDATE spaces_post SET search = {_PG_VECTOR.format(title="NEW.title", text="text")}
        WHERE thread_id = NEW.id;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER spaces_thread_title_au AFTER UPDATE OF title ON spaces_thread "
    "FOR EACH ROW EXECUTE FUNCTION spaces_thread_title_changed()",
    f"UPDATE spaces_post p SET search = {_PG_VECTOR.format(title='t.title', text='p.text')} "
    "FROM spaces_thread t WHERE t.id = p.thread_id",
    "CREATE INDEX spaces_post_search_idx ON spaces_post USING GIN (search)",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS spaces_thread_title_au ON spaces_thread",
    "DROP FUNCTION IF EXISTS spaces_thread_title_changed()",
    "DROP TRIGGER IF EXISTS spaces_post_search_biu ON spaces_post",
    "DROP FUNCTION IF EXISTS spaces_post_search_fill()",
    "DROP INDEX IF EXISTS spaces_post_search_idx",
    "ALTER TABLE spaces_post DROP COLUMN IF EXISTS search",
]


def _run(statements: dict[str, list[str]]):  # type: ignore[no-untyped-def]  # migration helper
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("spaces", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
