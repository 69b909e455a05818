"""SQLite migrations: applied once, even when processes start on a new file together."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from core_alerts.store.sqlite.schema import migrate
from core_alerts.store.sqlite.writer import connect


class _StaleStart:
    """A connection whose first look at the applied versions saw none: what a process sees
    when another one migrates the file between that look and its own write lock."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "SELECT version FROM schema_migrations":
            return iter(())
        return self._conn.execute(sql, *args)


def test_a_migration_applied_meanwhile_by_another_process_is_skipped(tmp_path: Path) -> None:
    path = str(tmp_path / "new.db")
    with contextlib.closing(connect(path)) as first, contextlib.closing(connect(path)) as late:
        applied = migrate(first)
        assert applied  # the first process brought the new file up to date
        assert migrate(_StaleStart(late)) == []  # type: ignore[arg-type]
        versions = [v for (v,) in late.execute("SELECT version FROM schema_migrations")]
        assert sorted(versions) == sorted(applied)


def test_alerts_are_not_indexed_by_fingerprint(tmp_path: Path) -> None:
    # The store keeps (tenant, fingerprint) -> rowid in memory (store/sqlite/directory.py);
    # an index on random fingerprints made each flush of new alerts rewrite its pages.
    with contextlib.closing(connect(str(tmp_path / "new.db"))) as conn:
        migrate(conn)
        indexed = {
            column
            for (index,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts'"
            )
            for (_, _, column) in conn.execute(f"PRAGMA index_info({index})")
        }
    assert "fingerprint" not in indexed
    assert {"tenant_id", "id", "status", "ends_at"} <= indexed
