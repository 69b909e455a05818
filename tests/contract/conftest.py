"""Where the side-store contracts (audit, access, notify) run: each test once per backend."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest


@dataclass
class Target:
    """A fresh SQLite file, or the session's PostgreSQL database (shared by the tests)."""

    kind: str
    where: str

    async def count(self, table: str) -> int:
        """Rows in a table, read past the store (and past row-level security)."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.where) as conn:
                return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        conn = await asyncpg.connect(self.where)
        try:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await conn.close()

    async def empty(self, *tables: str) -> None:
        """Empty the tables an earlier test filled (only PostgreSQL outlives a test)."""
        if self.kind != "postgres":
            return
        conn = await asyncpg.connect(self.where)
        try:
            await conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        finally:
            await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    # Resolved in a sync fixture: pg_dsn runs asyncio.run(), which a running loop forbids.
    if request.param == "sqlite":
        return Target("sqlite", str(tmp_path / "alerts.db"))
    return Target("postgres", request.getfixturevalue("pg_dsn"))
