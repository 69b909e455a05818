"""PostgresAuditLog: the AuditLog port on PostgreSQL (asyncpg pool of its own).

An append locks its tenant's head row (SELECT ... FOR UPDATE) before it reads the head, so
appends to one tenant are serialized across connections and processes, while appends to
different tenants run in parallel.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from core_alerts.domain.audit import (
    GENESIS_HASH,
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
from core_alerts.store.postgres.connections import PostgresPool
from core_alerts.store.postgres.schema import numbered

_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, len(ENTRY_COLUMNS.split(",")) + 1))
_INSERT = f"INSERT INTO audit_entries ({ENTRY_COLUMNS}) VALUES ({_PLACEHOLDERS})"
# A tenant's first append creates its head row; a concurrent first append waits on the
# unique index, then finds the row and queues on its lock like any later append.
_ENSURE_HEAD = (
    "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) "
    "ON CONFLICT (tenant_id) DO NOTHING"
)
_LOCK_HEAD = "SELECT tenant_id, seq, hash FROM audit_heads WHERE tenant_id = $1 FOR UPDATE"
_MOVE_HEAD = "UPDATE audit_heads SET seq = $2, hash = $3 WHERE tenant_id = $1"
_HEAD = "SELECT tenant_id, seq, hash FROM audit_heads WHERE tenant_id = $1"
_CHUNK = (
    f"SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE tenant_id = $1 AND seq > $2 "
    "ORDER BY seq LIMIT $3"
)


def _behind(exc: Exception) -> ConflictError:
    return ConflictError(f"the audit head is behind its entries ({exc}); verify the audit trail")


def _head(row: Any) -> AuditHead:
    return AuditHead(tenant_id=row[0], seq=row[1], hash=row[2])


class PostgresAuditLog:
    """`key` is the server-side audit key (None: plain SHA-256, see docs/audit.md)."""

    def __init__(
        self,
        dsn: str,
        *,
        key: bytes | None,
        clock: Clock | None = None,
        pool_size: int = 4,
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
        app_role: str | None = "core_alerts_app",
    ) -> None:
        check_key(key)
        self._db = PostgresPool(
            dsn,
            store="audit log",
            app_name="core-alerts-audit",
            max_size=pool_size,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            role=app_role,
        )
        self._key = key
        self._clock = clock or SystemClock()

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    def _reading(self, tenant_id: str) -> contextlib.AbstractAsyncContextManager[Any]:
        """A transaction that sees only `tenant_id`'s chain (row-level security)."""
        return self._db.transaction(tenant_id, "read the audit log")

    async def append(self, tenant_id: str, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        check_tenant(tenant_id)
        if not drafts:
            return []
        async with self._db.transaction(tenant_id, "append to the audit log", _behind) as conn:
            await conn.execute(_ENSURE_HEAD, tenant_id, GENESIS_HASH)
            head = _head(await conn.fetchrow(_LOCK_HEAD, tenant_id))
            entries = seal_entries(
                self._key, tenant_id, head if head.seq else None, drafts, now=self._clock.now()
            )
            await conn.executemany(_INSERT, [entry_params(e) for e in entries])
            await conn.execute(_MOVE_HEAD, tenant_id, entries[-1].seq, entries[-1].hash)
        return entries

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
        async with self._reading(tenant_id) as conn:
            rows = await conn.fetch(numbered(sql), tenant_id, *params)
        return page_of([entry_from_row(r) for r in rows], query.limit)

    async def entries(self, tenant_id: str, *, after_seq: int = 0) -> AsyncIterator[AuditEntry]:
        check_tenant(tenant_id)
        cursor = after_seq
        while True:
            async with self._reading(tenant_id) as conn:
                rows = await conn.fetch(_CHUNK, tenant_id, cursor, STREAM_CHUNK)
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < STREAM_CHUNK:
                return
            cursor = rows[-1][1]

    async def head(self, tenant_id: str) -> AuditHead | None:
        check_tenant(tenant_id)
        async with self._reading(tenant_id) as conn:
            row = await conn.fetchrow(_HEAD, tenant_id)
        return None if row is None else _head(row)
