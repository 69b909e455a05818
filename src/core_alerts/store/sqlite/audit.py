"""SqliteAuditLog: the AuditLog port on the service's SQLite file, with its own connections.

Writes run on one thread and reads on another, so the event loop never waits on the disk.
Each append is one BEGIN IMMEDIATE transaction: SQLite then admits one writer at a time,
across connections and processes, so the head read at its start is still the head at COMMIT.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from core_alerts.domain.audit import (
    AuditDraft,
    AuditEntry,
    AuditHead,
    check_key,
    check_tenant,
    seal_entries,
)
from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.errors import ConfigError, ConflictError, StorageUnavailable
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
from core_alerts.store.sqlite.schema import migrate

T = TypeVar("T")
_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
_MIGRATE_ATTEMPTS = 3

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
        if synchronous.upper() not in _SYNCHRONOUS:
            allowed = ", ".join(sorted(_SYNCHRONOUS))
            raise ConfigError(f"synchronous must be one of {allowed}, not {synchronous!r}")
        self._path = path
        self._key = key
        self._clock = clock or SystemClock()
        self._synchronous = synchronous.upper()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-audit-writer")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sqlite-audit-reader")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def _open_writer(self) -> None:
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        # migrate() reads the applied versions before it locks: when another connection
        # (the alert store) migrates the same new file at the same moment, one of them
        # fails on "already exists". Running it again then finds those versions applied.
        for attempt in range(1, _MIGRATE_ATTEMPTS + 1):
            try:
                migrate(conn)
                break
            except sqlite3.OperationalError as exc:
                if "already exists" not in str(exc) or attempt == _MIGRATE_ATTEMPTS:
                    conn.close()
                    raise
        self._wconn = conn

    def _reading(self) -> sqlite3.Connection:
        if self._rconn is None:
            self._rconn = self._connect()
            self._rconn.execute("PRAGMA query_only=ON")
        return self._rconn

    async def open(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._writer, self._open_writer)
        except (OSError, sqlite3.Error) as exc:
            raise StorageUnavailable(f"cannot open SQLite file {self._path}: {exc}") from None

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        wconn, self._wconn = self._wconn, None
        rconn, self._rconn = self._rconn, None
        if wconn is not None:
            await loop.run_in_executor(self._writer, wconn.close)
        if rconn is not None:
            await loop.run_in_executor(self._reader, rconn.close)
        self._writer.shutdown(wait=False)
        self._reader.shutdown(wait=False)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._reader, lambda: fn(self._reading())
            )
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"SQLite cannot read the audit log: {exc}") from None

    # -- writes ------------------------------------------------------------------------

    async def append(self, tenant_id: str, drafts: Sequence[AuditDraft]) -> list[AuditEntry]:
        check_tenant(tenant_id)
        if not drafts:
            return []
        write = functools.partial(self._append_locked, tenant_id, list(drafts))
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer, write)
        except sqlite3.IntegrityError as exc:
            raise ConflictError(
                f"the audit head of tenant {tenant_id!r} is behind its entries ({exc}); "
                "verify the audit trail"
            ) from None
        except sqlite3.OperationalError as exc:
            raise StorageUnavailable(f"SQLite cannot write: {exc}", retry_after=2) from None

    def _append_locked(self, tenant_id: str, drafts: list[AuditDraft]) -> list[AuditEntry]:
        conn = self._wconn
        if conn is None:
            raise StorageUnavailable("the audit log is not open")
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(_HEAD, (tenant_id,)).fetchone()
            head = None if row is None else AuditHead(tenant_id=row[0], seq=row[1], hash=row[2])
            entries = seal_entries(self._key, tenant_id, head, drafts, now=self._clock.now())
            conn.executemany(_INSERT, [entry_params(e) for e in entries])
            conn.execute(_MOVE_HEAD, (tenant_id, entries[-1].seq, entries[-1].hash))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
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
        rows = await self._read(lambda conn: conn.execute(sql, [tenant_id, *params]).fetchall())
        return page_of([entry_from_row(r) for r in rows], query.limit)

    async def entries(self, tenant_id: str, *, after_seq: int = 0) -> AsyncIterator[AuditEntry]:
        check_tenant(tenant_id)
        cursor = after_seq
        while True:
            rows = await self._read(functools.partial(_chunk, tenant_id, cursor))
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < STREAM_CHUNK:
                return
            cursor = rows[-1][1]

    async def head(self, tenant_id: str) -> AuditHead | None:
        check_tenant(tenant_id)
        row = await self._read(lambda conn: conn.execute(_HEAD, (tenant_id,)).fetchone())
        return None if row is None else AuditHead(tenant_id=row[0], seq=row[1], hash=row[2])


def _chunk(tenant_id: str, after_seq: int, conn: sqlite3.Connection) -> builtins.list[Any]:
    return conn.execute(_CHUNK, (tenant_id, after_seq, STREAM_CHUNK)).fetchall()
