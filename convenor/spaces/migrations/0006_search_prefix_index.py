"""SQLite: rebuild the posts' FTS5 table with prefix indexes (2 to 8 characters).

Searching takes the last word as the start of a word (`partit*`). Without a prefix index,
FTS5 reads and merges the index entries of every word that starts so (for "check": check,
checks, checklist, checkout ...), for the whole table, once per statement: tens of ms on a
million posts, and more than a second when asked again for each of a page's 20 snippets.
With one it reads a single entry, like a whole word. The price: the index is about four
times as large (on the web benchmark's 1,000,000 posts, 137 MB → 534 MB) and slower to
write (this rebuild took 63 s there). Prefixes longer than 8 characters start few words, so merging them stays
cheap. PostgreSQL is unchanged (its search takes whole words).

FTS5 cannot add the option to an existing table: it is dropped, created again and refilled
from the posts (as migration 0002 filled it); the triggers of 0002 name the table, so they
work on the new one unchanged.
"""

from django.db import migrations

_CREATE = "CREATE VIRTUAL TABLE spaces_post_fts USING fts5(title, body, tokenize='porter unicode61'{prefix})"
_FILL = (
    "INSERT INTO spaces_post_fts(rowid, title, body) "
    "SELECT p.id, t.title, p.text FROM spaces_post p JOIN spaces_thread t ON t.id = p.thread_id"
)
# Filled in one statement, the index is left in many segments, and every lookup reads each
# of them: merged into one, a search on a million posts read a tenth as much.
_OPTIMIZE = "INSERT INTO spaces_post_fts(spaces_post_fts) VALUES('optimize')"
SQLITE_UP = [
    "DROP TABLE IF EXISTS spaces_post_fts",
    _CREATE.format(prefix=", prefix='2 3 4 5 6 7 8'"),
    _FILL,
    _OPTIMIZE,
]
SQLITE_DOWN = ["DROP TABLE IF EXISTS spaces_post_fts", _CREATE.format(prefix=""), _FILL, _OPTIMIZE]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]  # migration helper
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("spaces", "0005_charter_checks")]

    operations = [migrations.RunPython(_run(SQLITE_UP), _run(SQLITE_DOWN))]
