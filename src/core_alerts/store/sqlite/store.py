"""SqliteAlertStore: the AlertStore Protocol on one SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, ClassVar, TypeVar

import msgspec
import structlog

from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.errors import AlertNotFound, ConflictError, StorageUnavailable
from core_alerts.domain.ingest import IngestResult, IngestSend, PackedSend
from core_alerts.domain.lifecycle import (
    BatchPlan,
    HumanAction,
    Key,
    PlannedSend,
    apply_human_action,
    expire,
    plan_batch,
)
from core_alerts.domain.record import AlertRecord, Decision, Transition
from core_alerts.store.filters import where_clause
from core_alerts.store.groupcommit import GroupCommittedWrites, GroupCommitter
from core_alerts.store.paging import Pager
from core_alerts.store.ports import AlertPage, AlertQuery
from core_alerts.store.rows import (
    ALERT_COLUMNS,
    DECISION_COLUMNS,
    HISTORY_COLUMNS,
    decision_from_row,
    decision_params,
    history_params,
    record_from_row,
    transition_from_row,
    update_params,
)
from core_alerts.store.sqlite.backlog import (
    DECISION_SQL,
    HISTORY_SQL,
    UPDATE_SQL,
    Backlog,
    IntakeEntry,
    append_intake,
    intake_sends,
    read_intake,
)
from core_alerts.store.sqlite.directory import RowDirectory
from core_alerts.store.sqlite.schema import migrate
from core_alerts.store.sqlite.writer import CACHE_KIB, SharedWriter, connect

T = TypeVar("T")
_CHUNK = 500
_CACHE_LIMIT = 50_000  # about 100 MB of records at most; misses fall back to SELECT
log = structlog.get_logger(__name__)
_FLUSH_RECORDS = 5_000  # flush the backlog once it holds this many alerts...
_FLUSH_SECONDS = 0.2  # ...or this long after a write
_BACKLOG_LIMIT = 50_000  # past this, a group waits for a flush (which may answer 503)


class SqliteAlertStore(GroupCommittedWrites):
    """WAL mode; `synchronous=FULL` by default so an answered write survives a crash."""

    plans_from_digests: ClassVar[bool] = True

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
        self._shared: SharedWriter | None = None
        """The file's writer thread and connection, shared with the other stores on it."""
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._closed = False
        # Records as last committed (to rows or to the intake), keyed (tenant, fingerprint).
        # Only the writer thread touches it, and this process is the only writer of the file,
        # so it is the truth: repeats skip the SELECT and the JSON decode of their row.
        self._cache: dict[Key, AlertRecord] = {}
        self._keys: dict[tuple[str, str], Key] = {}
        """(tenant, alert id) -> cache key, for reads by id that the cache can answer."""
        self._digests: dict[Key, bytes] = {}
        """Content digests of cached records, where known: a packed send with the same
        digest repeats its alert unchanged (see plan_batch). Written by the writer thread
        only; the event loop reads it as a hint (`apply_sends`)."""
        self._rows = RowDirectory()
        """Every stored row's rowid by (tenant, fingerprint): the cache's misses are read by
        rowid, and a key it does not hold is a new alert (writer thread only)."""
        self._backlog = Backlog(self._rows)
        self._after_commit: list[Callable[[], None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._early_flush: asyncio.Task[None] | None = None  # held so it is not collected
        self._lock: IO[bytes] | None = None
        self._committer: GroupCommitter[Sequence[IngestSend], list[IngestResult]] = GroupCommitter(
            self._write_group,
            size_of=len,
            max_sends=max_group_sends,
            max_pending=max_pending,
            on_group=on_group,
        )

    # -- connections -------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self._path, self._synchronous, CACHE_KIB)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        shared = self._shared
        if shared is None:
            raise StorageUnavailable("the store is closed")

        def run() -> T:
            self._after_commit = []
            try:
                result = shared.transaction(fn, self._synchronous)
            except BaseException:
                self._after_commit = []  # nothing of this transaction happened
                raise
            hooks, self._after_commit = self._after_commit, []
            for hook in hooks:
                hook()
            return result

        try:
            return await shared.run(run)
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
        try:
            self._shared = await SharedWriter.acquire(self._path)
            await self._shared.run(self._setup)
            await self._replay_intake()
        except BaseException as exc:
            await self._let_go()
            if isinstance(exc, OSError | sqlite3.Error):
                raise StorageUnavailable(f"cannot open SQLite file {self._path}: {exc}") from None
            raise
        self._committer.start()
        self._flusher = asyncio.get_running_loop().create_task(self._flush_periodically())

    def _setup(self) -> None:
        """On the writer thread: own the file, then bring its schema up to date."""
        assert self._shared is not None
        self._lock = _exclusive_lock(self._path)
        conn = self._shared.conn()
        migrate(conn)
        self._rows.load(conn)

    async def _let_go(self) -> None:
        """Give the writer back and release the file (at close, or when open failed)."""
        shared, self._shared = self._shared, None
        if shared is not None:
            await shared.release()
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()  # releases the flock

    async def _replay_intake(self) -> None:
        """After a crash: apply the intake rows the last flush did not cover, in order."""

        for seq, entry in await self._write(read_intake):
            await self._write(functools.partial(self._replay_group, entry=entry, seq=seq))
        await self.flush()

    async def flush(self) -> None:
        """Write the backlog to the alert rows (reads call this first: read-your-writes)."""
        if len(self._backlog):
            await self._write(lambda conn: self._after_commit.append(self._backlog.flush(conn)))

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_SECONDS)
            await self._flush_logged()

    async def _flush_logged(self) -> None:
        """A background flush: a failure keeps the backlog (and the intake) for the next try
        and must not end the task that retries."""
        try:
            await self.flush()
        except Exception as exc:
            log.warning("flushing the SQLite backlog failed; will retry", error=str(exc))
        finally:
            if asyncio.current_task() is self._early_flush:
                self._early_flush = None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._committer.close()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self._early_flush is not None:
            await self._early_flush
        with contextlib.suppress(StorageUnavailable):
            await self.flush()  # what stays in the intake is replayed at the next start

        await self._let_go()
        self._readers.shutdown(wait=True)

    async def ping(self) -> None:
        if self._closed:
            raise StorageUnavailable("the store is closed")
        await self._read(lambda c: c.execute("SELECT 1").fetchone())

    # -- the write path (apply_sends, pending_writes: GroupCommittedWrites) --------------

    async def apply_sends(self, sends: Sequence[IngestSend]) -> list[IngestResult]:
        # The writer thread sets the pace of ingestion, so the packed sends it would have to
        # unpack (no digest known for their alert: new alerts, mostly) are unpacked here, on
        # the event loop. A hint only: a wrong guess costs time, never correctness.
        digests = self._digests
        for send in sends:
            if isinstance(send, PackedSend) and (send.tenant_id, send.fingerprint) not in digests:
                send.unpack()
        return await super().apply_sends(sends)

    async def _write_group(self, requests: list[Sequence[IngestSend]]) -> list[list[IngestResult]]:
        if len(self._backlog) >= _BACKLOG_LIMIT:
            await self.flush()  # rows cannot keep up (or cannot be written): hold the intake
        results = await self._write(functools.partial(self._apply_group, requests=requests))
        if len(self._backlog) >= _FLUSH_RECORDS and self._early_flush is None:
            self._early_flush = asyncio.get_running_loop().create_task(self._flush_logged())
        return results

    def _load(self, conn: sqlite3.Connection, keys: set[Key]) -> dict[Key, AlertRecord]:
        """Current records for `keys`, as copies: planning changes them in place, and a
        failed group must leave the cache as it was. A key neither cached nor stored is a
        new alert and costs no query."""
        cache, rows = self._cache, self._rows
        found: dict[Key, AlertRecord] = {}
        stored: list[int] = []
        for key in keys:
            rec = cache.get(key)
            if rec is not None:
                found[key] = msgspec.structs.replace(rec)
            elif (seq := rows.seq(key)) is not None:
                stored.append(seq)
        for i in range(0, len(stored), _CHUNK):
            chunk = stored[i : i + _CHUNK]
            sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE seq IN ({', '.join('?' * len(chunk))})"
            for row in conn.execute(sql, chunk):
                rec = record_from_row(row)
                found[(rec.tenant_id, rec.fingerprint)] = rec
        return found

    def _apply_group(
        self, conn: sqlite3.Connection, requests: list[Sequence[IngestSend]]
    ) -> list[list[IngestResult]]:
        """Plan the group and append it to the intake (the durable point); the rows follow
        when the backlog is flushed."""
        now = self._clock.now()
        plan = self._plan(conn, requests, now)
        seq = append_intake(conn, now, intake_sends(requests, plan))
        self._after_commit.append(lambda: self._absorb(plan, seq))
        return plan.results

    def _replay_group(self, conn: sqlite3.Connection, entry: IntakeEntry, seq: int) -> None:
        """Apply one intake row again, as of the time it was written."""
        now, requests = entry
        plan = self._plan(conn, requests, now)
        self._after_commit.append(lambda: self._absorb(plan, seq))

    def _plan(
        self,
        conn: sqlite3.Connection,
        requests: Sequence[Sequence[PlannedSend]],
        now: float,
    ) -> BatchPlan:
        keys = {(s.tenant_id, s.fingerprint) for sends in requests for s in sends}
        explicit = {(s.tenant_id, s.alert_id) for sends in requests for s in sends if s.alert_id}
        plan = plan_batch(self._load(conn, keys), requests, now, self._digests)
        if explicit:
            self._check_new_ids(conn, plan, explicit)
        return plan

    def _check_new_ids(
        self, conn: sqlite3.Connection, plan: BatchPlan, explicit: set[tuple[str, str]]
    ) -> None:
        """An id chosen by the caller must be new in its tenant (the unique (tenant, id))."""
        for rec in plan.inserts.values():
            ident = (rec.tenant_id, rec.id)
            if ident not in explicit:
                continue
            taken = (
                self._backlog.has_new_id(*ident)
                or conn.execute(
                    "SELECT 1 FROM alerts WHERE tenant_id = ? AND id = ?", ident
                ).fetchone()
            )
            twice = sum(1 for r in plan.inserts.values() if (r.tenant_id, r.id) == ident) > 1
            if taken or twice:
                raise ConflictError(f"alert id {rec.id} already exists in tenant {rec.tenant_id}")

    def _absorb(self, plan: BatchPlan, intake_seq: int) -> None:
        self._backlog.absorb(plan, intake_seq)
        if len(self._cache) > _CACHE_LIMIT:
            # Keep what only the backlog knows; the rest can be read again. New dicts, not
            # cleared ones: readers on the event loop may hold the old ones.
            self._cache, self._keys, self._digests = {}, {}, {}
            self._remember(self._backlog.records.values())
        self._remember(plan.inserts.values())
        self._remember(plan.updates.values())
        digests = self._digests
        for key, digest in plan.digests.items():
            if digest is None:
                digests.pop(key, None)
            else:
                digests[key] = digest

    def _remember(self, records: Iterable[AlertRecord]) -> None:
        """Records as just committed (writer thread only)."""
        cache, keys = self._cache, self._keys
        for rec in records:
            key = (rec.tenant_id, rec.fingerprint)
            cache[key] = rec
            keys[(rec.tenant_id, rec.id)] = key

    async def transition(
        self, tenant_id: str, alert_id: str, action: HumanAction, actor: str, comment: str
    ) -> AlertRecord:
        def run(conn: sqlite3.Connection) -> AlertRecord:
            self._after_commit.append(self._backlog.flush(conn))  # rows first, then the act
            row = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND id = ?",
                (tenant_id, alert_id),
            ).fetchone()
            if row is None:
                raise AlertNotFound(f"alert {alert_id} not found")
            rec = record_from_row(row)
            transitions = apply_human_action(rec, action, actor, comment, self._clock.now())
            conn.execute(UPDATE_SQL, update_params(rec))
            conn.executemany(HISTORY_SQL, [history_params(t) for t in transitions])
            self._after_commit.append(lambda: self._remember((rec,)))
            return rec

        return await self._write(run)

    async def expire_due(self, limit: int) -> list[tuple[AlertRecord, Transition]]:
        def run(conn: sqlite3.Connection) -> list[tuple[AlertRecord, Transition]]:
            self._after_commit.append(self._backlog.flush(conn))
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
            conn.executemany(UPDATE_SQL, [update_params(r) for r, _ in changed])
            conn.executemany(HISTORY_SQL, [history_params(t) for _, t in changed])
            self._after_commit.append(lambda: self._remember(r for r, _ in changed))
            return changed

        return await self._write(run)

    async def purge_resolved(self, tenant_id: str, before: float, limit: int) -> int:
        def run(conn: sqlite3.Connection) -> int:
            self._after_commit.append(self._backlog.flush(conn))  # rows first, then the purge
            rows = conn.execute(
                "SELECT seq, id, fingerprint FROM alerts WHERE tenant_id = ? "
                "AND status = 'resolved' AND resolved_at < ? ORDER BY resolved_at LIMIT ?",
                (tenant_id, before, limit),
            ).fetchall()
            return self._delete_rows(conn, tenant_id, rows)

        return await self._write(run)

    async def update_annotations(
        self, tenant_id: str, alert_id: str, annotations: dict[str, str]
    ) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            self._after_commit.append(self._backlog.flush(conn))
            row = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND id = ?",
                (tenant_id, alert_id),
            ).fetchone()
            if row is None:
                return False
            rec = record_from_row(row)
            rec.annotations = annotations
            conn.execute(UPDATE_SQL, update_params(rec))

            def changed() -> None:
                self._remember((rec,))
                self._digests.pop((rec.tenant_id, rec.fingerprint), None)  # a new content

            self._after_commit.append(changed)
            return True

        return await self._write(run)

    async def delete_alerts(self, tenant_id: str, alert_ids: list[str]) -> int:
        def run(conn: sqlite3.Connection) -> int:
            self._after_commit.append(self._backlog.flush(conn))
            found = [
                row
                for alert_id in alert_ids
                for row in conn.execute(
                    "SELECT seq, id, fingerprint FROM alerts WHERE tenant_id = ? AND id = ?",
                    (tenant_id, alert_id),
                )
            ]
            return self._delete_rows(conn, tenant_id, found)

        return await self._write(run)

    def _delete_rows(
        self, conn: sqlite3.Connection, tenant_id: str, rows: list[tuple[int, str, str]]
    ) -> int:
        """Delete alert rows (seq, id, fingerprint) with their history and decisions."""
        ids = [(tenant_id, alert_id) for _, alert_id, _ in rows]
        conn.executemany("DELETE FROM alert_history WHERE tenant_id = ? AND alert_id = ?", ids)
        conn.executemany("DELETE FROM alert_decisions WHERE tenant_id = ? AND alert_id = ?", ids)
        conn.executemany("DELETE FROM alerts WHERE seq = ?", [(seq,) for seq, _, _ in rows])
        gone = [((tenant_id, fp), (tenant_id, alert_id)) for _, alert_id, fp in rows]

        def forget() -> None:
            for key, ident in gone:
                self._rows.discard(key)
                self._cache.pop(key, None)
                self._keys.pop(ident, None)
                self._digests.pop(key, None)

        self._after_commit.append(forget)
        return len(rows)

    async def add_decisions(self, decisions: list[Decision]) -> None:
        if decisions:
            await self._write(
                lambda c: c.executemany(DECISION_SQL, [decision_params(d) for d in decisions])
            )

    # -- reads -------------------------------------------------------------------------

    async def get(self, tenant_id: str, alert_id: str) -> AlertRecord | None:
        return await self._one("id", tenant_id, alert_id)

    async def get_by_fingerprint(self, tenant_id: str, fingerprint: str) -> AlertRecord | None:
        await self.flush()  # the rows, and with them the directory, hold every alert
        seq = self._rows.seq((tenant_id, fingerprint))
        return None if seq is None else await self._row("seq", tenant_id, seq)

    async def get_many(self, tenant_id: str, alert_ids: Sequence[str]) -> list[AlertRecord]:
        ids = list(dict.fromkeys(alert_ids))
        cached = self._cached(tenant_id, ids)
        if cached is not None:
            return cached
        await self.flush()

        def run(conn: sqlite3.Connection) -> list[AlertRecord]:
            found: list[AlertRecord] = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND id IN ({marks})"
                found.extend(record_from_row(r) for r in conn.execute(sql, (tenant_id, *chunk)))
            return found

        return await self._read(run)

    def _cached(self, tenant_id: str, ids: list[str]) -> list[AlertRecord] | None:
        """Copies of the records from the writer's cache, which holds every change as soon as
        it commits; None unless it holds them all. Saves a backlog flush (a write and an
        fsync) per read: the notification hub reads the alerts it is about to notify."""
        cache, keys = self._cache, self._keys
        found = []
        for alert_id in ids:
            key = keys.get((tenant_id, alert_id))
            rec = None if key is None else cache.get(key)
            if rec is None or rec.id != alert_id:
                return None
            labels, annotations = dict(rec.labels), dict(rec.annotations)
            found.append(msgspec.structs.replace(rec, labels=labels, annotations=annotations))
        return found

    async def _one(self, column: str, tenant_id: str, value: str) -> AlertRecord | None:
        await self.flush()
        return await self._row(column, tenant_id, value)

    async def _row(self, column: str, tenant_id: str, value: str | int) -> AlertRecord | None:
        """The alert whose `column` is `value`, as the rows hold it (no flush)."""
        sql = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND {column} = ?"
        row = await self._read(lambda c: c.execute(sql, (tenant_id, value)).fetchone())
        return None if row is None else record_from_row(row)

    async def query(self, tenant_id: str, query: AlertQuery) -> AlertPage:
        await self.flush()
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
        await self.flush()
        sql = (
            f"SELECT {HISTORY_COLUMNS} FROM alert_history "
            "WHERE tenant_id = ? AND alert_id = ? ORDER BY seq"
        )
        rows = await self._read(lambda c: c.execute(sql, (tenant_id, alert_id)).fetchall())
        return [transition_from_row(r) for r in rows]

    async def decisions(self, tenant_id: str, alert_id: str) -> list[Decision]:
        await self.flush()
        sql = (
            f"SELECT {DECISION_COLUMNS} FROM alert_decisions "
            "WHERE tenant_id = ? AND alert_id = ? ORDER BY seq"
        )
        rows = await self._read(lambda c: c.execute(sql, (tenant_id, alert_id)).fetchall())
        return [decision_from_row(r) for r in rows]


def _exclusive_lock(path: str) -> IO[bytes]:
    """One store per file: the cache and the backlog assume they see every write."""
    handle = open(f"{path}.lock", "wb")  # noqa: SIM115 - held open for the store's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StorageUnavailable(
            f"{path} is in use by another core-alerts process; SQLite allows one, "
            "use PostgreSQL to run several"
        ) from None
    return handle
