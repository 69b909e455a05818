"""SqliteAuditLog: the AuditLog port on the service's SQLite file, with its own connections.

Each append is one write transaction of SqliteConnections (BEGIN IMMEDIATE): SQLite admits
one writer at a time across connections and processes, so the head read at its start is
still the head at COMMIT.
"""

from __future__ import annotations

import builtins
import functools
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

from core_alerts.domain.audit import (
    AuditDraft,
    AuditEntry,
    AuditHead,
    check_key,
    check_tenant,
    seal_entries,
)
from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.errors import ConflictError
from core_alerts.store.audit import (
    ENTRY_COLUMNS,
    STREAM_CHUNK,
    AuditPage,
    entry_from_row,
    entry_params,
    list_sql,
    make_query,
    page_of,
)
from core_alerts.store.sqlite.connections import SqliteConnections

_INSERT = f"INSERT INTO audit_entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_HEAD = "SELECT tenant_id, seq, hash FROM audit_heads WHERE tenant_id = ?"
_MOVE_HEAD = (
    "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, ?, ?) "
    "ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)
_CHUNK = (
    f"SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE tenant_id = ? AND seq > ? "
    "ORDER BY seq LIMIT ?"
)


class SqliteAuditLog:
    """`key` is the server-side audit key (None: plain SHA-256, see docs/audit.md)."""

    def __init__(
        self,
        path: str,
        *,
        key: bytes | None,
        clock: Clock | None = None,
        synchronous: str = "FULL",
    ) -> None:
        check_key(key)
        self._db = SqliteConnections(path, name="audit", what="audit log", synchronous=synchronous)
        self._key = key
        self._clock = clock or SystemClock()

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    # -- writes ------------------------------------------------------------------------

    async def append(self, tenant_id: str, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        check_tenant(tenant_id)
        if not drafts:
            return []

        def behind(exc: sqlite3.IntegrityError) -> ConflictError:
            return ConflictError(
                f"the audit head of tenant {tenant_id!r} is behind its entries ({exc}); "
                "verify the audit trail"
            )

        append = functools.partial(self._append, tenant_id, list(drafts))
        return await self._db.write(append, conflict=behind)

    def _append(
        self, tenant_id: str, drafts: list[AuditDraft], conn: sqlite3.Connection
    ) -> list[AuditEntry]:
        row = conn.execute(_HEAD, (tenant_id,)).fetchone()
        head = None if row is None else AuditHead(tenant_id=row[0], seq=row[1], hash=row[2])
        entries = seal_entries(self._key, tenant_id, head, drafts, now=self._clock.now())
        conn.executemany(_INSERT, [entry_params(e) for e in entries])
        conn.execute(_MOVE_HEAD, (tenant_id, entries[-1].seq, entries[-1].hash))
        return entries

    # -- reads -------------------------------------------------------------------------

    async def list(
        self,
        tenant_id: str,
        *,
        after_seq: int | None = None,
        limit: int = 100,
        action_prefix: str | None = None,
        actor: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> AuditPage:
        query = make_query(
            tenant_id, after_seq=after_seq, limit=limit, action_prefix=action_prefix,
            actor=actor, since=since, until=until,
        )  # fmt: skip
        sql, params = list_sql(query)
        rows = await self._db.read(lambda conn: conn.execute(sql, [tenant_id, *params]).fetchall())
        return page_of([entry_from_row(r) for r in rows], query.limit)

    async def entries(self, tenant_id: str, *, after_seq: int = 0) -> AsyncIterator[AuditEntry]:
        check_tenant(tenant_id)
        cursor = after_seq
        while True:
            rows = await self._db.read(functools.partial(_chunk, tenant_id, cursor))
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < STREAM_CHUNK:
                return
            cursor = rows[-1][1]

    async def head(self, tenant_id: str) -> AuditHead | None:
        check_tenant(tenant_id)
        row = await self._db.read(lambda conn: conn.execute(_HEAD, (tenant_id,)).fetchone())
        return None if row is None else AuditHead(tenant_id=row[0], seq=row[1], hash=row[2])


def _chunk(tenant_id: str, after_seq: int, conn: sqlite3.Connection) -> builtins.list[Any]:
    return conn.execute(_CHUNK, (tenant_id, after_seq, STREAM_CHUNK)).fetchall()
