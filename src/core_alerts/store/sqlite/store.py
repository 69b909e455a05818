"""SqliteAlertStore: the AlertStore Protocol on one SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.errors import AlertNotFound, ConflictError, StorageUnavailable
from core_alerts.domain.ingest import IngestResult, NormalizedAlert
from core_alerts.domain.lifecycle import (
    COUNTER_FIELDS,
    HumanAction,
    Key,
    apply_human_action,
    expire,
    plan_batch,
)
from core_alerts.domain.record import AlertRecord, Decision, Transition
from core_alerts.store.filters import where_clause
from core_alerts.store.groupcommit import GroupCommitter
from core_alerts.store.paging import Pager
from core_alerts.store.ports import AlertPage, AlertQuery
from core_alerts.store.rows import (
    ALERT_COLUMNS,
    DECISION_COLUMNS,
    HISTORY_COLUMNS,
    INSERT_COLUMNS,
    UPDATE_COLUMNS,
    counter_params,
    decision_from_row,
    decision_params,
    history_params,
    insert_params,
    record_from_row,
    transition_from_row,
    update_params,
)
from core_alerts.store.sqlite.schema import migrate

T = TypeVar("T")
_CHUNK = 500
_INSERT_SQL = f"INSERT INTO alerts ({INSERT_COLUMNS}) VALUES ({', '.join('?' * 22)}) RETURNING seq"
_UPDATE_SQL = (
    "UPDATE alerts SET "
    + ", ".join(f"{c.strip()} = ?" for c in UPDATE_COLUMNS.split(","))
    + " WHERE seq = ?"
)
_COUNTER_SQL = (
    "UPDATE alerts SET " + ", ".join(f"{c} = ?" for c in COUNTER_FIELDS) + " WHERE seq = ?"
)
_CACHE_LIMIT = 50_000  # about 100 MB of records at most; misses fall back to SELECT
_HISTORY_SQL = f"INSERT INTO alert_history ({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_DECISION_SQL = f"INSERT INTO alert_decisions ({DECISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


class SqliteAlertStore:
    """WAL mode; `synchronous=FULL` by default so an answered write survives a crash."""

    def __init__(
        self,
        path: str,
        *,
        clock: Clock | None = None,
        synchronous: str = "FULL",
        max_group_sends: int = 1000,
        max_pending: int = 50_000,
        readers: int = 2,
        on_group: Callable[[int, int, float], None] | None = None,
    ) -> None:
        self._path = path
        self._clock = clock or SystemClock()
        self._synchronous = synchronous
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._wconn: sqlite3.Connection | None = None
        self._closed = False
        # Records as last committed, keyed (tenant, fingerprint). Only the writer thread
        # touches it, and this process is the only writer of the file, so it is the truth:
        # repeats skip the SELECT and the JSON decode of their row.
        self._cache: dict[Key, AlertRecord] = {}
        self._committer: GroupCommitter[list[NormalizedAlert], list[IngestResult]] = GroupCommitter(
            self._write_group,
            size_of=len,
            max_sends=max_group_sends,
            max_pending=max_pending,
            on_group=on_group,
        )

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            assert self._wconn is not None
            conn = self._wconn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                self._cache.clear()  # whatever it cached from this transaction is not true
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer, run)
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"write conflicts with a stored alert: {exc}") from None
        except sqlite3.OperationalError as exc:
            raise StorageUnavailable(f"SQLite cannot write: {exc}", retry_after=2) from None

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._readers, lambda: fn(self._reader())
            )
        except sqlite3.OperationalError as exc:
            raise StorageUnavailable(f"SQLite cannot read: {exc}", retry_after=2) from None

    async def open(self) -> None:
        def setup() -> None:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self._wconn = self._connect()
            migrate(self._wconn)

        try:
            await asyncio.get_running_loop().run_in_executor(self._writer, setup)
        except (OSError, sqlite3.Error) as exc:
            raise StorageUnavailable(f"cannot open SQLite file {self._path}: {exc}") from None
        self._committer.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._committer.close()

        def shutdown() -> None:
            if self._wconn is not None:
                self._wconn.close()

        await asyncio.get_running_loop().run_in_executor(self._writer, shutdown)
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)

    async def ping(self) -> None:
        if self._closed:
            raise StorageUnavailable("the store is closed")
        await self._read(lambda c: c.execute("SELECT 1").fetchone())

    async def pending_writes(self) -> int:
        return self._committer.pending

    # -- the write path ----------------------------------------------------------------

    async def apply_sends(self, sends: list[NormalizedAlert]) -> list[IngestResult]:
        if not sends:
            return []
        return await self._committer.submit(sends)

    async def _write_group(self, requests: list[list[NormalizedAlert]]) -> list[list[IngestResult]]:
        return await self._write(lambda conn: self._apply_group(conn, requests))

    def _load(self, conn: sqlite3.Connection, keys: set[Key]) -> dict[Key, AlertRecord]:
        cache = self._cache
        found: dict[Key, AlertRecord] = {}
        by_tenant: dict[str, list[str]] = {}
        for key in keys:
            rec = cache.get(key)
            if rec is not None:
                found[key] = rec
            else:
                by_tenant.setdefault(key[0], []).append(key[1])
        for tenant, fps in by_tenant.items():
            for i in range(0, len(fps), _CHUNK):
                chunk = fps[i : i + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                sql = (
                    f"SELECT {ALERT_COLUMNS} FROM alerts "
                    f"WHERE tenant_id = ? AND fingerprint IN ({marks})"
                )
                for row in conn.execute(sql, (tenant, *chunk)):
                    rec = record_from_row(row)
                    found[(rec.tenant_id, rec.fingerprint)] = rec
        return found

    def _apply_group(
        self, conn: sqlite3.Connection, requests: list[list[NormalizedAlert]]
    ) -> list[list[IngestResult]]:
        keys = {(s.tenant_id, s.fingerprint) for sends in requests for s in sends}
        try:
            plan = plan_batch(self._load(conn, keys), requests, self._clock.now())
            for rec in plan.inserts.values():
                rec.seq = conn.execute(_INSERT_SQL, insert_params(rec)).fetchone()[0]
            conn.executemany(_UPDATE_SQL, [update_params(r) for r in plan.full_updates()])
            conn.executemany(_COUNTER_SQL, [counter_params(r) for r in plan.counter_only()])
            conn.executemany(_HISTORY_SQL, [history_params(t) for t in plan.transitions])
            if plan.decisions:
                conn.executemany(_DECISION_SQL, [decision_params(d) for d in plan.decisions])
        except BaseException:
            # plan_batch changed cached records in place; the rollback undoes only the file.
            for key in keys:
                self._cache.pop(key, None)
            raise
        self._remember(plan.touched())
        return plan.results

    def _remember(self, records: list[AlertRecord]) -> None:
        """Cache what this transaction wrote (it commits right after; a failed COMMIT clears
        the cache in `_write`)."""
        if len(self._cache) + len(records) > _CACHE_LIMIT:
            self._cache.clear()
        for rec in records:
            self._cache[(rec.tenant_id, rec.fingerprint)] = rec

    async def transition(
        self, tenant_id: str, alert_id: str, action: HumanAction, actor: str, comment: str
    ) -> AlertRecord:
        def run(conn: sqlite3.Connection) -> AlertRecord:
            row = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND id = ?",
                (tenant_id, alert_id),
            ).fetchone()
            if row is None:
                raise AlertNotFound(f"alert {alert_id} not found")
            rec = record_from_row(row)
            transitions = apply_human_action(rec, action, actor, comment, self._clock.now())
            conn.execute(_UPDATE_SQL, update_params(rec))
            self._cache.pop((rec.tenant_id, rec.fingerprint), None)
            conn.executemany(_HISTORY_SQL, [history_params(t) for t in transitions])
            return rec

        return await self._write(run)

    async def expire_due(self, limit: int) -> list[tuple[AlertRecord, Transition]]:
        def run(conn: sqlite3.Connection) -> list[tuple[AlertRecord, Transition]]:
            now = self._clock.now()
            rows = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts "
                "WHERE status != 'resolved' AND ends_at <= ? ORDER BY ends_at LIMIT ?",
                (now, limit),
            ).fetchall()
            changed = []
            for row in rows:
                rec = record_from_row(row)
                tr = expire(rec, now)
                if tr is not None:
                    changed.append((rec, tr))
            conn.executemany(_UPDATE_SQL, [update_params(r) for r, _ in changed])
            conn.executemany(_HISTORY_SQL, [history_params(t) for _, t in changed])
            for rec, _ in changed:
                self._cache.pop((rec.tenant_id, rec.fingerprint), None)
            return changed

        return await self._write(run)

    async def add_decisions(self, decisions: list[Decision]) -> None:
        if decisions:
            await self._write(
                lambda c: c.executemany(_DECISION_SQL, [decision_params(d) for d in decisions])
            )

    # -- reads -------------------------------------------------------------------------

    async def get(self, tenant_id: str, alert_id: str) -> AlertRecord | None:
        return await self._one("id", tenant_id, alert_id)

    async def get_by_fingerprint(self, tenant_id: str, fingerprint: str) -> AlertRecord | None:
        return await self._one("fingerprint", tenant_id, fingerprint)

    async def _one(self, column: str, tenant_id: str, value: str) -> AlertRecord | None:
        sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND {column} = ?"
        row = await self._read(lambda c: c.execute(sql, (tenant_id, value)).fetchone())
        return None if row is None else record_from_row(row)

    async def query(self, tenant_id: str, query: AlertQuery) -> AlertPage:
        now = self._clock.now()

        def run(conn: sqlite3.Connection) -> AlertPage:
            pager = Pager(query)
            while True:
                where, params = where_clause(tenant_id, pager.query, now)
                rows = conn.execute(
                    f"SELECT {ALERT_COLUMNS} FROM alerts WHERE {where} ORDER BY seq DESC LIMIT ?",
                    (*params, pager.batch),
                ).fetchall()
                page = pager.feed([record_from_row(r) for r in rows])
                if page is not None:
                    return page

        return await self._read(run)

    async def history(self, tenant_id: str, alert_id: str) -> list[Transition]:
        sql = (
            f"SELECT {HISTORY_COLUMNS} FROM alert_history "
            "WHERE tenant_id = ? AND alert_id = ? ORDER BY seq"
        )
        rows = await self._read(lambda c: c.execute(sql, (tenant_id, alert_id)).fetchall())
        return [transition_from_row(r) for r in rows]

    async def decisions(self, tenant_id: str, alert_id: str) -> list[Decision]:
        sql = (
            f"SELECT {DECISION_COLUMNS} FROM alert_decisions "
            "WHERE tenant_id = ? AND alert_id = ? ORDER BY seq"
        )
        rows = await self._read(lambda c: c.execute(sql, (tenant_id, alert_id)).fetchall())
        return [decision_from_row(r) for r in rows]
