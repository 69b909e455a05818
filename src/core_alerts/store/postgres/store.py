"""PostgresAlertStore: the AlertStore Protocol on an asyncpg pool."""

from __future__ import annotations

import asyncio
import contextlib
import operator
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

import asyncpg
import msgspec
import structlog

from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.errors import (
    AlertNotFound,
    ConfigError,
    ConflictError,
    CoreAlertsError,
    StorageUnavailable,
    ValidationFailed,
)
from core_alerts.domain.ingest import IngestResult, IngestSend, SendAction
from core_alerts.domain.lifecycle import (
    BatchPlan,
    HumanAction,
    Key,
    apply_human_action,
    expire,
    plan_batch,
)
from core_alerts.domain.record import AlertRecord, Decision, Transition
from core_alerts.store.filters import where_clause
from core_alerts.store.groupcommit import GroupCommittedWrites, GroupCommitter
from core_alerts.store.paging import Pager
from core_alerts.store.ports import AlertPage, AlertQuery
from core_alerts.store.postgres.growth import GrowthWatch
from core_alerts.store.postgres.schema import (
    CREATE_STAGED_ALERTS,
    DECISIONS,
    HISTORY,
    INSERT_DECISIONS,
    INSERT_HISTORY,
    LOCK_BY_ID,
    LOCK_DUE,
    LOCK_KEYS,
    RAISE_SWEEP,
    SELECT_ALERTS,
    SELECT_BY_SEQ,
    STAGED_ALERTS,
    UPDATE_ALERTS,
    WRITE_GROUP,
    WRITE_STAGED_GROUP,
    WRITE_WIDTHS,
    begin_for_all_tenants,
    numbered,
    open_migrated_pool,
    transpose,
)
from core_alerts.store.rows import (
    counter_params,
    decision_from_row,
    decision_params,
    encode_json,
    history_params,
    insert_params,
    record_from_row,
    transition_from_row,
    update_params,
)

log = structlog.get_logger(__name__)

_PING_TIMEOUT = 2.0
_CACHE_LIMIT = 50_000  # records; past it the cache starts again (misses read the row)
_KNOWN_LIMIT = 200_000  # keys known to be stored (about 150 bytes each); then start again
_XID_SPAN = 1 << 31  # a cached version older than this many transactions is not trusted
_SWEEP_ROUNDS = 10  # candidate batches one expire_due may look at (see expire_due)
_STAGE_FROM = 500  # new alerts in a group from which COPY (more round trips) pays
_by_key = operator.attrgetter("tenant_id", "fingerprint")

# Connection loss, refused/too many connections, timeouts, server shutdown, and whatever else
# the server refuses: nothing was committed, and the caller may retry later.
_UNAVAILABLE = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                OSError, TimeoutError)  # fmt: skip


class _InsertRace(Exception):
    """Another process inserted one of our new fingerprints first; redo the group."""


class _StagingLost(Exception):
    """The connection has no staging table (dropped, or another session behind a pooler):
    redo the group without it."""


class _Stale(Exception):
    """A row the group planned from memory was changed by another writer; redo the group
    with every row locked and read."""


@contextlib.contextmanager
def _mapped(what: str) -> Iterator[None]:
    """Translate asyncpg and socket errors into the domain's errors."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise ConflictError(f"write conflicts with a stored alert: {exc}") from exc
    except asyncpg.DataError as exc:
        raise ValidationFailed(f"PostgreSQL rejected a value: {exc}") from exc
    except asyncpg.ClientConfigurationError as exc:
        raise ConfigError(f"PostgreSQL connection settings are invalid: {exc}") from exc
    except _UNAVAILABLE as exc:
        message = f"PostgreSQL cannot {what}: {type(exc).__name__}: {exc}"
        raise StorageUnavailable(message, retry_after=2) from exc


class PostgresAlertStore(GroupCommittedWrites):
    """synchronous_commit stays on (the server default): an answered write is on disk.

    Each process remembers the alerts it updated, with the transaction that wrote them, and
    plans their repeats from memory (with the content digest, so packed repeats are counted
    without unpacking) without reading or locking their rows; the group's updates apply only
    where a row's xmin is still that transaction. Another process's write, a human action
    or an operator's SQL all give the row a new xmin: the group is then redone with every
    row locked and read, so memory can be stale but is never believed when it is. See
    docs/storage.md, "PostgreSQL repeats".
    """

    plans_from_digests: ClassVar[bool] = True

    def __init__(
        self,
        dsn: str,
        *,
        clock: Clock | None = None,
        pool_size: int = 8,
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
        max_group_sends: int = 1000,
        max_pending: int = 50_000,
        on_group: Callable[[int, int, float], None] | None = None,
        app_role: str | None = "core_alerts_app",
    ) -> None:
        self._dsn = dsn
        self._clock = clock or SystemClock()
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._pool: Any = None
        self._role = app_role
        self._wall = ""  # set at open: the statement that opens each transaction
        self._begin_all = ""  # BEGIN and the same for a transaction across tenants
        self._growth = GrowthWatch(0)  # set at open, from the table's size
        self._analyzing: asyncio.Task[None] | None = None
        self._cache: dict[Key, tuple[AlertRecord, int]] = {}
        """Records as this process last committed them, with the writing transaction's id."""
        self._digests: dict[Key, bytes] = {}
        """Content digests of cached records, where known (see plan_batch)."""
        self._staging = True
        """Large groups COPY their new alerts (off once a session cannot keep the table)."""
        self._known: dict[Key, None] = {}
        """Keys this process has seen stored (a key it has not is taken for a new alert)."""
        self._committer: GroupCommitter[Sequence[IngestSend], list[IngestResult]] = GroupCommitter(
            self._write_group,
            size_of=len,
            max_sends=max_group_sends,
            max_pending=max_pending,
            on_group=on_group,
        )

    # -- connections -------------------------------------------------------------------

    async def open(self) -> None:
        with _mapped("connect"):
            pool, self._wall = await open_migrated_pool(
                self._dsn,
                min_size=min(2, self._pool_size),
                max_size=self._pool_size,
                connect_timeout=self._connect_timeout,
                command_timeout=self._command_timeout,
                app_name="core-alerts",
                role=self._role,
                init=self._prepare_connection,
            )
        self._pool = pool
        self._begin_all = begin_for_all_tenants(self._wall)
        async with self._conn("read the size of the alerts table") as conn:
            rows = await conn.fetchval(
                "SELECT reltuples FROM pg_class WHERE oid = 'alerts'::regclass"
            )
        self._growth = GrowthWatch(rows)
        self._committer.start()

    async def _prepare_connection(self, conn: Any) -> None:
        """Each new connection: its staging table (see STAGED_ALERTS). A login that may not
        create temporary tables still gets a working store, without COPY."""
        if self._staging:
            try:
                await conn.execute(CREATE_STAGED_ALERTS)
            except asyncpg.PostgresError as exc:
                self._stop_staging(exc)

    def _stop_staging(self, exc: Exception) -> None:
        if self._staging:
            self._staging = False
            log.warning("staging_table_unavailable", table=STAGED_ALERTS, error=str(exc),
                        effect="large groups of new alerts are written without COPY")  # fmt: skip

    async def close(self) -> None:
        await self._committer.close()
        if self._analyzing is not None:
            await self._analyzing
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=self._command_timeout)
            except _UNAVAILABLE:
                pool.terminate()

    @contextlib.asynccontextmanager
    async def _conn(self, what: str, wait: float | None = None) -> AsyncIterator[Any]:
        if self._pool is None:
            raise StorageUnavailable("the PostgreSQL store is not open", retry_after=5)
        with _mapped(what):
            async with self._pool.acquire(timeout=wait or self._connect_timeout) as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def _tx(self, tenant_id: str = "*", what: str = "write") -> AsyncIterator[Any]:
        """A transaction as the service role, seeing only `tenant_id`'s rows ('*': all)."""
        async with self._conn(what) as conn, conn.transaction():
            await conn.execute(self._wall, tenant_id)
            yield conn

    async def ping(self) -> None:
        async with self._conn("answer a ping", _PING_TIMEOUT) as conn:
            await conn.fetchval("SELECT 1", timeout=_PING_TIMEOUT)

    # -- the write path (apply_sends, pending_writes: GroupCommittedWrites) --------------

    async def _write_group(self, requests: list[Sequence[IngestSend]]) -> list[list[IngestResult]]:
        lock_all = False
        attempts = 0
        while attempts < 3:
            try:
                async with self._conn("write") as conn:
                    try:  # BEGIN and COMMIT by hand: BEGIN goes with the wall statement
                        await conn.execute(self._begin_all)
                        plan, xid = await self._apply_group(conn, requests, lock_all)
                        await conn.execute("COMMIT")
                    except BaseException as exc:
                        await _roll_back(conn)
                        if isinstance(exc, asyncpg.DeadlockDetectedError):
                            raise _Stale from None  # unlocked rows met another writer
                        raise
                self._absorb(plan, xid)
                if self._growth.inserted(len(plan.inserts)):
                    self._analyze_soon()
                return plan.results
            except (_Stale, _InsertRace):
                lock_all = True
                attempts += 1
            except _StagingLost:
                pass  # not an attempt: staging is off now, so this happens once per process
        raise StorageUnavailable("concurrent writers keep changing the same alerts; retry",
                                 retry_after=1)  # fmt: skip

    async def _apply_group(
        self, conn: Any, requests: list[Sequence[IngestSend]], lock_all: bool
    ) -> tuple[BatchPlan, int]:
        """Plan and write one group; returns the plan and the transaction's id."""
        keys: set[Key] = set()
        look_up: set[Key] = set()
        for sends in requests:
            for s in sends:
                keys.add((s.tenant_id, s.fingerprint))
                # An acknowledgement or a resolve of an alert not stored does not insert it,
                # so no conflict would show that it is stored after all: always looked up.
                if s.action is not SendAction.FIRE:
                    look_up.add((s.tenant_id, s.fingerprint))
        found, expected, oldest = await self._read(conn, keys, keys if lock_all else look_up)
        plan = plan_batch(found, requests, self._clock.now(), self._digests)
        # Key order: writers that wait on each other's rows wait in one order.
        new = [plan.inserts[k] for k in sorted(plan.inserts)]
        counters = sorted(plan.counter_only(), key=_by_key)
        full = sorted(plan.full_updates(), key=_by_key)
        rows = [insert_params(r) for r in new]
        staged = self._staging and len(rows) >= _STAGE_FROM
        if staged:
            try:
                await conn.copy_records_to_table(STAGED_ALERTS, records=rows)
            except asyncpg.UndefinedTableError as exc:
                self._stop_staging(exc)
                raise _StagingLost from None
        parts: tuple[list[tuple[Any, ...]], ...] = (
            rows,
            [(*counter_params(r), expected[r.tenant_id, r.fingerprint]) for r in counters],
            [(*update_params(r), expected[r.tenant_id, r.fingerprint]) for r in full],
            [history_params(t) for t in plan.transitions],
            [decision_params(d) for d in plan.decisions],
        )
        widths: tuple[int, ...] = WRITE_WIDTHS
        write = WRITE_GROUP
        if staged:  # the new rows are in STAGED_ALERTS: no parameters for them
            parts, widths, write = parts[1:], widths[1:], WRITE_STAGED_GROUP
        params = [col for part, width in zip(parts, widths, strict=True)
                  for col in (transpose(part) if part else [[]] * width)]  # fmt: skip
        xid, updated, seqs, tenants, fingerprints = await conn.fetchrow(write, *params)
        if updated < len(counters) + len(full) or xid - oldest >= _XID_SPAN:
            # A row changed since this process wrote it, or xmin may have wrapped since.
            raise _Stale
        if len(seqs) < len(new):
            raise _InsertRace
        for seq, tenant_id, fingerprint in zip(seqs, tenants, fingerprints, strict=True):
            plan.inserts[(tenant_id, fingerprint)].seq = seq
        return plan, xid

    async def _read(
        self, conn: Any, keys: set[Key], look_up: set[Key]
    ) -> tuple[dict[Key, AlertRecord], dict[Key, int], int]:
        """The stored records of `keys`, as copies (planning changes them in place, and a
        failed group must leave the cache as it was), the xmin each row must still have
        when the group writes it, and the id of the oldest write planned from memory.

        A key this process updated is not read: the write checks that its row is still the
        version this process wrote. A key it has never seen stored is taken for a new alert
        unless it is in `look_up`: its insert then finds out if it was stored after all.
        The others are locked and read where memory is stale. After a failed check, the
        group is redone with every key in `look_up`.
        """
        cache, known = self._cache, self._known
        expected: dict[Key, int] = {}  # from memory, or the row's xmin once locked
        locked = [k for k in keys if k in look_up or (k not in cache and k in known)]
        for key in keys.difference(locked):
            if (mine := cache.get(key)) is not None:
                expected[key] = mine[1] & 0xFFFF_FFFF
        seqs: dict[Key, int] = {}
        for key, seq, xmin in await _lock_keys(conn, locked):
            expected[key], seqs[key] = xmin, seq
        known.update(dict.fromkeys(seqs))
        found: dict[Key, AlertRecord] = {}
        oldest, stale = 1 << 63, []
        for key, xmin in expected.items():
            mine = cache.get(key)
            if mine is not None and mine[1] & 0xFFFF_FFFF == xmin:
                found[key] = msgspec.structs.replace(mine[0])
                oldest = min(oldest, mine[1])
            else:  # locked, and changed since this process wrote it (or never written by it)
                stale.append(seqs[key])
                self._digests.pop(key, None)
        if stale:
            for row in await conn.fetch(SELECT_BY_SEQ, stale):
                rec = record_from_row(row)
                found[(rec.tenant_id, rec.fingerprint)] = rec
        return found, expected, oldest

    def _absorb(self, plan: BatchPlan, xid: int) -> None:
        """Remember the records a group updated, as written by `xid`, and their digests.

        New alerts are not remembered: most are never repeated when most sends are new, and
        a repeated one is read once, at its first repeat.
        """
        if len(self._cache) > _CACHE_LIMIT:
            self._cache, self._digests = {}, {}
        if len(self._known) > _KNOWN_LIMIT:
            self._known = {}
        self._known.update(dict.fromkeys(plan.inserts))
        cache, digests = self._cache, self._digests
        for key, rec in plan.updates.items():
            cache[key] = (rec, xid)
        for key, digest in plan.digests.items():
            if digest is None or key not in cache:
                digests.pop(key, None)
            else:
                digests[key] = digest

    def _analyze_soon(self) -> None:
        """ANALYZE alerts in the background (see growth.py), one at a time."""
        if self._analyzing is None or self._analyzing.done():
            self._analyzing = asyncio.get_running_loop().create_task(self._analyze())

    async def _analyze(self) -> None:
        try:
            async with self._conn("refresh the planner statistics") as conn:
                await conn.execute("ANALYZE alerts")
        except CoreAlertsError as exc:  # autovacuum will do it later
            log.warning("analyze_failed", table="alerts", error=str(exc))

    async def transition(
        self, tenant_id: str, alert_id: str, action: HumanAction, actor: str, comment: str
    ) -> AlertRecord:
        async with self._tx() as conn:
            row = await conn.fetchrow(LOCK_BY_ID, tenant_id, alert_id)
            if row is None:
                raise AlertNotFound(f"alert {alert_id} not found")
            rec = record_from_row(row)
            transitions = apply_human_action(rec, action, actor, comment, self._clock.now())
            await _update(conn, [rec])
            await _append(conn, INSERT_HISTORY, [history_params(t) for t in transitions])
            return rec

    async def purge_resolved(self, tenant_id: str, before: float, limit: int) -> int:
        async with self._tx() as conn:
            ids = [
                r[0]
                for r in await conn.fetch(
                    "DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts WHERE tenant_id = $1 "
                    "AND status = 'resolved' AND resolved_at < $2 ORDER BY resolved_at LIMIT $3 "
                    "FOR UPDATE SKIP LOCKED) RETURNING id",
                    tenant_id, before, limit,
                )
            ]  # fmt: skip
            return await _delete_dependents(conn, tenant_id, ids)

    async def update_annotations(
        self, tenant_id: str, alert_id: str, annotations: dict[str, str]
    ) -> bool:
        async with self._tx() as conn:
            status = await conn.execute(
                "UPDATE alerts SET annotations = $1::jsonb WHERE tenant_id = $2 AND id = $3",
                encode_json(annotations), tenant_id, alert_id,
            )  # fmt: skip
            return bool(status.endswith(" 1"))

    async def delete_alerts(self, tenant_id: str, alert_ids: list[str]) -> int:
        async with self._tx() as conn:
            rows = await conn.fetch(
                "DELETE FROM alerts WHERE tenant_id = $1 AND id = ANY($2::text[]) RETURNING id",
                tenant_id, alert_ids,
            )  # fmt: skip
            return await _delete_dependents(conn, tenant_id, [r[0] for r in rows])

    async def expire_due(self, limit: int) -> list[tuple[AlertRecord, Transition]]:
        """Resolve up to `limit` alerts whose ends_at has passed.

        Candidates come by sweep_at, a lower bound of ends_at; one found early (a repeat
        moved its end) gets sweep_at = ends_at and is passed over. Up to _SWEEP_ROUNDS
        batches are looked at, so early candidates cannot hide due ones for long.
        """
        async with self._tx() as conn:
            now = self._clock.now()
            changed: list[tuple[AlertRecord, Transition]] = []
            for _ in range(_SWEEP_ROUNDS):
                rows = await conn.fetch(LOCK_DUE, now, limit - len(changed))
                resolved, early = [], []
                for row in rows:
                    rec = record_from_row(row)
                    tr = expire(rec, now)
                    if tr is not None:
                        resolved.append((rec, tr))
                    else:
                        early.append((rec.seq, rec.ends_at))
                # Written at once: the next batch of this transaction must not find them.
                await _update(conn, [rec for rec, _ in resolved])
                if early:
                    await conn.execute(RAISE_SWEEP, *transpose(early))
                changed += resolved
                if not early or len(changed) == limit:
                    break
            await _append(conn, INSERT_HISTORY, [history_params(t) for _, t in changed])
            return changed

    async def add_decisions(self, decisions: list[Decision]) -> None:
        if decisions:
            async with self._tx() as conn:
                await _append(conn, INSERT_DECISIONS, [decision_params(d) for d in decisions])

    # -- reads -------------------------------------------------------------------------

    async def _fetch(self, sql: str, tenant_id: str, *args: Any) -> list[Any]:
        async with self._tx(tenant_id, "read") as conn:
            rows: list[Any] = await conn.fetch(sql, tenant_id, *args)
            return rows

    async def get(self, tenant_id: str, alert_id: str) -> AlertRecord | None:
        return await self._one("id", tenant_id, alert_id)

    async def get_by_fingerprint(self, tenant_id: str, fingerprint: str) -> AlertRecord | None:
        return await self._one("fingerprint", tenant_id, fingerprint)

    async def get_many(self, tenant_id: str, alert_ids: Sequence[str]) -> list[AlertRecord]:
        rows = await self._fetch(
            f"{SELECT_ALERTS} WHERE tenant_id = $1 AND id = ANY($2::text[])",
            tenant_id,
            list(dict.fromkeys(alert_ids)),
        )
        return [record_from_row(r) for r in rows]

    async def _one(self, column: str, tenant_id: str, value: str) -> AlertRecord | None:
        rows = await self._fetch(
            f"{SELECT_ALERTS} WHERE tenant_id = $1 AND {column} = $2", tenant_id, value
        )
        return record_from_row(rows[0]) if rows else None

    async def query(self, tenant_id: str, query: AlertQuery) -> AlertPage:
        now = self._clock.now()
        pager = Pager(query)
        async with self._tx(tenant_id, "read") as conn:
            while True:
                where, params = where_clause(tenant_id, pager.query, now, "postgres")
                sql = numbered(f"{SELECT_ALERTS} WHERE {where} ORDER BY seq DESC LIMIT ?")
                rows = await conn.fetch(sql, *params, pager.batch)
                page = pager.feed([record_from_row(r) for r in rows])
                if page is not None:
                    return page

    async def history(self, tenant_id: str, alert_id: str) -> list[Transition]:
        rows = await self._fetch(HISTORY, tenant_id, alert_id)
        return [transition_from_row(r) for r in rows]

    async def decisions(self, tenant_id: str, alert_id: str) -> list[Decision]:
        rows = await self._fetch(DECISIONS, tenant_id, alert_id)
        return [decision_from_row(r) for r in rows]


async def _lock_keys(conn: Any, keys: Iterable[Key]) -> list[tuple[Key, int, int]]:
    """Lock the stored rows for these keys, one statement per tenant: (key, seq, xmin)."""
    by_tenant: dict[str, list[str]] = {}
    for tenant_id, fingerprint in keys:
        by_tenant.setdefault(tenant_id, []).append(fingerprint)
    return [
        ((tenant_id, fingerprint), seq, xmin)
        for tenant_id in sorted(by_tenant)
        for fingerprint, seq, xmin in await conn.fetch(
            LOCK_KEYS, tenant_id, sorted(by_tenant[tenant_id])
        )
    ]


async def _roll_back(conn: Any) -> None:
    """End a failed transaction; a connection that cannot is reset by the pool."""
    if conn.is_in_transaction():
        with contextlib.suppress(*_UNAVAILABLE):
            await conn.execute("ROLLBACK")


async def _delete_dependents(conn: Any, tenant_id: str, ids: list[str]) -> int:
    """History and decisions of deleted alerts; returns how many alerts were deleted."""
    for table in ("alert_history", "alert_decisions"):
        await conn.execute(
            f"DELETE FROM {table} WHERE tenant_id = $1 AND alert_id = ANY($2::text[])",
            tenant_id, ids,
        )  # fmt: skip
    return len(ids)


async def _update(conn: Any, records: Iterable[AlertRecord]) -> None:
    params = [update_params(r) for r in records]
    if params:
        await conn.execute(UPDATE_ALERTS, *transpose(params))


async def _append(conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert history or decision rows with one unnest statement (in list order)."""
    if rows:
        await conn.execute(sql, *transpose(rows))
