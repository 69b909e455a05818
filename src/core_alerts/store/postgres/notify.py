"""PostgresNotifyStore: the NotifyStore port on PostgreSQL (asyncpg pool of its own).

Every transaction names its tenant for row-level security; the work of delivery workers and
sweeps spans tenants and runs under '*'. Several processes claim from one outbox: the claim
locks due rows with FOR UPDATE SKIP LOCKED, so each row goes to one of them.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Sequence
from typing import Any

from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.notification import Notification
from core_alerts.store import notifyrows as rows
from core_alerts.store.notify import (
    GroupState,
    Lease,
    LogEntry,
    OutboxEntry,
    OutboxPage,
    OutboxState,
    Outcome,
    OutcomeShortcuts,
    StoredConfig,
)
from core_alerts.store.postgres.connections import PostgresPool
from core_alerts.store.postgres.schema import numbered, transpose

_ALL = None
"""In place of a tenant: every tenant (the transaction names '*')."""
_RETURNED = ", ".join(f"o.{c.strip()}" for c in rows.OUTBOX_COLUMNS.split(","))

_CLAIM = numbered(
    f"WITH due AS (SELECT id FROM notify_outbox WHERE {rows.CLAIMABLE} FOR UPDATE SKIP LOCKED) "
    "UPDATE notify_outbox o SET lease_owner = ?, lease_until = ? FROM due WHERE o.id = due.id "
    f"RETURNING {_RETURNED}"
)
# A leased entry is due for no one else before its lease ends: report when it can be
# claimed, so a worker waiting for it does not wake up to find nothing to claim.
_NEXT_DUE = (
    "SELECT min(GREATEST(next_attempt_at, lease_until)) FROM notify_outbox WHERE state = 'pending'"
)
_INSERT_OUTBOX = (
    f"INSERT INTO notify_outbox ({rows.INSERT_COLUMNS}) SELECT * FROM unnest($1::text[], "
    "$2::text[], $3::float8[], $4::json[], $5::text[], $6::int[], $7::float8[], $8::float8[]) "
    "ON CONFLICT (id) DO NOTHING RETURNING id"
)
_INDEX_ALERTS = (
    "INSERT INTO notify_alert_index (tenant_id, alert_id, notification_id) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING"
)
_LEASE_ADDED = numbered(
    "UPDATE notify_outbox o SET lease_owner = ?, lease_until = ? WHERE o.id = ANY(?::text[]) "
    f"RETURNING {_RETURNED}"
)
_REPLAY_IDS = numbered(f"{rows.REPLAY} AND id = ANY(?::text[])")
_PURGE_OUTBOX = numbered(
    f"WITH gone AS (DELETE FROM notify_outbox WHERE {rows.PURGEABLE} RETURNING id), "
    "unindexed AS (DELETE FROM notify_alert_index WHERE notification_id IN "
    "(SELECT id FROM gone)) SELECT count(*) FROM gone"
)
_SQL = {name: numbered(getattr(rows, name)) for name in (
    "GET_CONFIG", "PUT_CONFIG", "SAVE_GROUP", "DELETE_GROUP", "UPSERT_LOG", "READ_LOG",
    "LOG_FIRING", "MARK_DELIVERED", "RETRY_LATER", "MARK_DEAD", "REPLAY", "GET_OUTBOX",
    "FOR_ALERT", "PURGE_LOG",
)}  # fmt: skip


_READ_LOGS = (
    f"SELECT {', '.join('l.' + c for c in rows.LOG_COLUMNS.split(', '))} FROM notify_log l "
    "JOIN unnest($2::text[], $3::text[]) AS k(group_key, receiver) "
    "ON l.group_key = k.group_key AND l.receiver = k.receiver "
    "WHERE l.tenant_id = $1 AND l.expires_at > $4 ORDER BY l.group_key, l.receiver, l.integration"
)


def _scope(tenants: set[str]) -> str | None:
    """The tenant a write names: its only tenant, or every tenant when it spans several."""
    return next(iter(tenants)) if len(tenants) == 1 else _ALL


class PostgresNotifyStore(OutcomeShortcuts):
    """`clock` says which log entries have expired (read_log, log_alert_ids)."""

    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
        pool_size: int = 4,
        app_role: str | None = "core_alerts_app",
        clock: Clock | None = None,
    ) -> None:
        self._db = PostgresPool(
            dsn,
            store="notify store",
            app_name="core-alerts-notify",
            max_size=pool_size,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            role=app_role,
        )
        self._clock = clock or SystemClock()

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    def _tx(self, tenant_id: str | None, what: str) -> contextlib.AbstractAsyncContextManager[Any]:
        """A transaction as the service role that sees `tenant_id`'s rows (None: all)."""
        if tenant_id is not None:
            rows.check_tenant(tenant_id)
        return self._db.transaction("*" if tenant_id is None else tenant_id, what)

    async def _fetch(self, tenant_id: str | None, sql: str, *args: Any) -> builtins.list[Any]:
        async with self._tx(tenant_id, "read the notify store") as conn:
            return list(await conn.fetch(sql, *args))

    async def _execute(self, tenant_id: str | None, sql: str, *args: Any) -> int:
        """Run one write; how many rows it touched."""
        async with self._tx(tenant_id, "write the notify store") as conn:
            status = await conn.execute(sql, *args)
        return int(status.rsplit(" ", 1)[-1])

    # -- routing configuration ---------------------------------------------------------

    async def get_config(self, tenant_id: str) -> StoredConfig | None:
        found = await self._fetch(tenant_id, _SQL["GET_CONFIG"], tenant_id)
        return rows.config_from_row(found[0]) if found else None

    async def put_config(self, tenant_id: str, text: str, by: str, at: float) -> StoredConfig:
        async with self._tx(tenant_id, "save the routing config") as conn:
            row = await conn.fetchrow(_SQL["PUT_CONFIG"], tenant_id, text, at, by)
        return rows.config_from_row(row)

    async def config_versions(self) -> dict[str, int]:
        found = await self._fetch(_ALL, rows.CONFIG_VERSIONS)
        return {r[0]: r[1] for r in found}

    # -- aggregation groups --------------------------------------------------------------

    async def save_groups(self, groups: Sequence[GroupState]) -> None:
        if not groups:
            return
        async with self._tx(_scope({g.tenant_id for g in groups}), "save groups") as conn:
            await conn.executemany(_SQL["SAVE_GROUP"], [rows.group_params(g) for g in groups])

    async def delete_groups(self, tenant_id: str, keys: Sequence[tuple[str, str]]) -> None:
        if not keys:
            return
        async with self._tx(tenant_id, "delete groups") as conn:
            await conn.executemany(_SQL["DELETE_GROUP"], [(tenant_id, *k) for k in keys])

    async def load_groups(self) -> builtins.list[GroupState]:
        return [rows.group_from_row(r) for r in await self._fetch(_ALL, rows.LOAD_GROUPS)]

    # -- notification log ----------------------------------------------------------------

    async def read_log(
        self, tenant_id: str, group_key: str, receiver: str
    ) -> builtins.list[LogEntry]:
        now = self._clock.now()
        found = await self._fetch(tenant_id, _SQL["READ_LOG"], tenant_id, group_key, receiver, now)
        return [rows.log_from_row(r) for r in found]

    async def read_logs(
        self, tenant_id: str, keys: Sequence[tuple[str, str]]
    ) -> builtins.list[LogEntry]:
        if not keys:
            return []
        unique = list(dict.fromkeys(keys))
        found = await self._fetch(
            tenant_id, _READ_LOGS, tenant_id, [k[0] for k in unique], [k[1] for k in unique],
            self._clock.now(),
        )  # fmt: skip
        return [rows.log_from_row(r) for r in found]

    async def log_alert_ids(self, tenant_id: str) -> builtins.list[tuple[str, str, str]]:
        found = await self._fetch(tenant_id, _SQL["LOG_FIRING"], tenant_id, self._clock.now())
        return rows.firing_ids(found)

    # -- outbox ----------------------------------------------------------------------------

    async def enqueue(
        self,
        notifications: Sequence[Notification],
        log: Sequence[LogEntry],
        lease: Lease | None = None,
    ) -> builtins.list[OutboxEntry]:
        if not notifications and not log:
            return []
        found: builtins.list[Any] = []
        tenants = {n.tenant_id for n in notifications} | {e.tenant_id for e in log}
        async with self._tx(_scope(tenants), "enqueue notifications") as conn:
            if notifications:
                params = transpose([rows.outbox_params(n) for n in notifications])
                added = {r[0] for r in await conn.fetch(_INSERT_OUTBOX, *params)}
                # Only the notifications stored now get index rows: a repeated id is left
                # as it was (the first of a batch that repeats one is the one stored).
                first = {n.id: n for n in reversed(notifications)}
                index = rows.index_rows([first[i] for i in added])
                if index:
                    await conn.execute(_INDEX_ALERTS, *transpose(index))
            if log:
                await conn.executemany(_SQL["UPSERT_LOG"], [rows.log_params(e) for e in log])
            if lease is not None and notifications and added:
                found = await conn.fetch(_LEASE_ADDED, lease.owner, lease.until, list(added))
        return rows.claim_order([rows.outbox_from_row(r) for r in found])

    async def claim_due(
        self, now: float, limit: int, lease: float, owner: str
    ) -> builtins.list[OutboxEntry]:
        if limit < 1:
            return []
        found = await self._fetch(_ALL, _CLAIM, now, now, limit, owner, now + lease)
        return rows.claim_order([rows.outbox_from_row(r) for r in found])

    async def next_due(self) -> float | None:
        found = await self._fetch(_ALL, _NEXT_DUE)
        return None if found[0][0] is None else float(found[0][0])

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        async with self._tx(None, "record delivery outcomes") as conn:
            for name, params in rows.outcome_params(outcomes).items():
                if params:
                    await conn.executemany(_SQL[name], params)

    async def list_outbox(
        self,
        tenant_id: str,
        *,
        state: OutboxState | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> OutboxPage:
        rows.check_tenant(tenant_id)
        rows.check_page(state, limit)
        sql, params = rows.list_sql(state, after)
        found = await self._fetch(tenant_id, numbered(sql), tenant_id, *params, limit + 1)
        return rows.page_of([rows.outbox_from_row(r) for r in found], limit)

    async def get_outbox(self, tenant_id: str, notification_id: str) -> OutboxEntry | None:
        found = await self._fetch(tenant_id, _SQL["GET_OUTBOX"], tenant_id, notification_id)
        return rows.outbox_from_row(found[0]) if found else None

    async def replay(self, tenant_id: str, ids: Sequence[str] | None, at: float) -> int:
        rows.check_tenant(tenant_id)
        if ids is None:
            return await self._execute(tenant_id, _SQL["REPLAY"], at, at, tenant_id)
        if not ids:
            return 0
        return await self._execute(tenant_id, _REPLAY_IDS, at, at, tenant_id, list(ids))

    async def for_alert(self, tenant_id: str, alert_id: str) -> builtins.list[OutboxEntry]:
        found = await self._fetch(tenant_id, _SQL["FOR_ALERT"], tenant_id, alert_id)
        return [rows.outbox_from_row(r) for r in found]

    async def counts(self) -> dict[tuple[str, str], int]:
        return rows.counts_of(await self._fetch(_ALL, rows.COUNTS))

    async def purge(self, before: float) -> int:
        async with self._tx(_ALL, "purge the outbox") as conn:
            gone = await conn.fetchval(_PURGE_OUTBOX, before)
            await conn.execute(_SQL["PURGE_LOG"], before)
        return int(gone)
