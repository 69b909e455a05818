"""Apply the numbered SQL migrations in this folder, once each, in order."""

from __future__ import annotations

import sqlite3
import time
from importlib import resources


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations in one transaction each; return the versions applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at REAL)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    folder = resources.files(__package__).joinpath("migrations")
    applied = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        version = entry.name.removesuffix(".sql")
        if not entry.name.endswith(".sql") or version in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it since `done` was read; under the write
            # lock taken above, this second look is final.
            again = "SELECT 1 FROM schema_migrations WHERE version = ?"
            fresh = conn.execute(again, (version,)).fetchone() is None
            if fresh:
                for statement in entry.read_text(encoding="utf-8").split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if fresh:
            applied.append(version)
    return applied
