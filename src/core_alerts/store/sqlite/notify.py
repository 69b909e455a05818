"""SqliteNotifyStore: the NotifyStore port on the service's SQLite file, own connections.

Every write is one write transaction of SqliteConnections (BEGIN IMMEDIATE): SQLite admits
one writer at a time across connections and processes, which is all a claim needs to hand an
entry to one owner.
"""

from __future__ import annotations

import builtins
import functools
import sqlite3
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
from core_alerts.store.sqlite.connections import SqliteConnections

_CLAIM = (
    f"UPDATE notify_outbox SET lease_owner = ?, lease_until = ? WHERE id IN "
    f"(SELECT id FROM notify_outbox WHERE {rows.CLAIMABLE}) RETURNING {rows.OUTBOX_COLUMNS}"
)
# A leased entry is due for no one else before its lease ends: report when it can be
# claimed, so a worker waiting for it does not wake up to find nothing to claim.
_NEXT_DUE = (
    "SELECT min(max(next_attempt_at, lease_until)) FROM notify_outbox WHERE state = 'pending'"
)
_REPLAY_IDS = f"{rows.REPLAY} AND id IN (SELECT value FROM json_each(?))"
_LEASE_ADDED = (
    "UPDATE notify_outbox SET lease_owner = ?, lease_until = ? "
    f"WHERE id IN (SELECT value FROM json_each(?)) RETURNING {rows.OUTBOX_COLUMNS}"
)
_PURGE_INDEX = (
    "DELETE FROM notify_alert_index WHERE notification_id IN "
    f"(SELECT id FROM notify_outbox WHERE {rows.PURGEABLE})"
)
_PURGE_OUTBOX = f"DELETE FROM notify_outbox WHERE {rows.PURGEABLE}"


class SqliteNotifyStore(OutcomeShortcuts):
    """`clock` says which log entries have expired (read_log, log_alert_ids)."""

    def __init__(self, path: str, *, synchronous: str = "FULL", clock: Clock | None = None) -> None:
        self._db = SqliteConnections(
            path, name="notify", what="notify store", synchronous=synchronous
        )
        self._clock = clock or SystemClock()

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    # -- routing configuration ---------------------------------------------------------

    async def get_config(self, tenant_id: str) -> StoredConfig | None:
        rows.check_tenant(tenant_id)
        row = await self._db.read(lambda c: c.execute(rows.GET_CONFIG, (tenant_id,)).fetchone())
        return None if row is None else rows.config_from_row(row)

    async def put_config(self, tenant_id: str, text: str, by: str, at: float) -> StoredConfig:
        rows.check_tenant(tenant_id)
        params = (tenant_id, text, at, by)
        row = await self._db.write(lambda c: c.execute(rows.PUT_CONFIG, params).fetchone())
        return rows.config_from_row(row)

    async def config_versions(self) -> dict[str, int]:
        found = await self._db.read(lambda c: c.execute(rows.CONFIG_VERSIONS).fetchall())
        return {tenant_id: version for tenant_id, version in found}

    # -- aggregation groups --------------------------------------------------------------

    async def save_groups(self, groups: Sequence[GroupState]) -> None:
        params = [rows.group_params(g) for g in groups]
        if params:
            await self._db.write(lambda c: c.executemany(rows.SAVE_GROUP, params))

    async def delete_groups(self, tenant_id: str, keys: Sequence[tuple[str, str]]) -> None:
        rows.check_tenant(tenant_id)
        params = [(tenant_id, group_key, receiver) for group_key, receiver in keys]
        if params:
            await self._db.write(lambda c: c.executemany(rows.DELETE_GROUP, params))

    async def load_groups(self) -> builtins.list[GroupState]:
        found = await self._db.read(lambda c: c.execute(rows.LOAD_GROUPS).fetchall())
        return [rows.group_from_row(r) for r in found]

    # -- notification log ----------------------------------------------------------------

    async def read_log(
        self, tenant_id: str, group_key: str, receiver: str
    ) -> builtins.list[LogEntry]:
        rows.check_tenant(tenant_id)
        params = (tenant_id, group_key, receiver, self._clock.now())
        found = await self._db.read(lambda c: c.execute(rows.READ_LOG, params).fetchall())
        return [rows.log_from_row(r) for r in found]

    async def read_logs(
        self, tenant_id: str, keys: Sequence[tuple[str, str]]
    ) -> builtins.list[LogEntry]:
        rows.check_tenant(tenant_id)
        now = self._clock.now()

        def run(conn: sqlite3.Connection) -> builtins.list[LogEntry]:
            found = []
            for group_key, receiver in dict.fromkeys(keys):
                params = (tenant_id, group_key, receiver, now)
                found.extend(conn.execute(rows.READ_LOG, params).fetchall())
            return [rows.log_from_row(r) for r in found]

        return await self._db.read(run) if keys else []

    async def log_alert_ids(self, tenant_id: str) -> builtins.list[tuple[str, str, str]]:
        rows.check_tenant(tenant_id)
        params = (tenant_id, self._clock.now())
        found = await self._db.read(lambda c: c.execute(rows.LOG_FIRING, params).fetchall())
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
        run = functools.partial(_enqueue, list(notifications), list(log), lease)
        found = await self._db.write(run)
        return rows.claim_order([rows.outbox_from_row(r) for r in found])

    async def claim_due(
        self, now: float, limit: int, lease: float, owner: str
    ) -> builtins.list[OutboxEntry]:
        if limit < 1:
            return []
        params = (owner, now + lease, now, now, limit)
        found = await self._db.write(lambda c: c.execute(_CLAIM, params).fetchall())
        return rows.claim_order([rows.outbox_from_row(r) for r in found])

    async def next_due(self) -> float | None:
        row = await self._db.read(lambda c: c.execute(_NEXT_DUE).fetchone())
        return None if row is None or row[0] is None else float(row[0])

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        by_sql = rows.outcome_params(outcomes)

        def run(conn: sqlite3.Connection) -> None:
            for name, params in by_sql.items():
                if params:
                    conn.executemany(getattr(rows, name), params)

        await self._db.write(run)

    async def _update(self, sql: str, params: tuple[object, ...]) -> int:
        return await self._db.write(lambda c: c.execute(sql, params).rowcount)

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
        args = [tenant_id, *params, limit + 1]
        found = await self._db.read(lambda c: c.execute(sql, args).fetchall())
        return rows.page_of([rows.outbox_from_row(r) for r in found], limit)

    async def get_outbox(self, tenant_id: str, notification_id: str) -> OutboxEntry | None:
        rows.check_tenant(tenant_id)
        params = (tenant_id, notification_id)
        row = await self._db.read(lambda c: c.execute(rows.GET_OUTBOX, params).fetchone())
        return None if row is None else rows.outbox_from_row(row)

    async def replay(self, tenant_id: str, ids: Sequence[str] | None, at: float) -> int:
        rows.check_tenant(tenant_id)
        if ids is None:
            return await self._update(rows.REPLAY, (at, at, tenant_id))
        if not ids:
            return 0
        return await self._update(_REPLAY_IDS, (at, at, tenant_id, rows.json_text(list(ids))))

    async def for_alert(self, tenant_id: str, alert_id: str) -> builtins.list[OutboxEntry]:
        rows.check_tenant(tenant_id)
        params = (tenant_id, alert_id)
        found = await self._db.read(lambda c: c.execute(rows.FOR_ALERT, params).fetchall())
        return [rows.outbox_from_row(r) for r in found]

    async def counts(self) -> dict[tuple[str, str], int]:
        return rows.counts_of(await self._db.read(lambda c: c.execute(rows.COUNTS).fetchall()))

    async def purge(self, before: float) -> int:
        return await self._db.write(functools.partial(_purge, before))


def _enqueue(
    notifications: list[Notification],
    log: list[LogEntry],
    lease: Lease | None,
    conn: sqlite3.Connection,
) -> list[Any]:
    # Only the notifications stored now get index rows: a repeated id is left as it was.
    added = [n for n in notifications
             if conn.execute(rows.INSERT_OUTBOX, rows.outbox_params(n)).rowcount == 1]  # fmt: skip
    conn.executemany(rows.INDEX_ALERT, rows.index_rows(added))
    conn.executemany(rows.UPSERT_LOG, [rows.log_params(e) for e in log])
    if lease is None or not added:
        return []
    ids = rows.json_text([n.id for n in added])
    return conn.execute(_LEASE_ADDED, (lease.owner, lease.until, ids)).fetchall()


def _purge(before: float, conn: sqlite3.Connection) -> int:
    conn.execute(_PURGE_INDEX, (before,))
    gone = conn.execute(_PURGE_OUTBOX, (before,)).rowcount
    conn.execute(rows.PURGE_LOG, (before,))
    return int(gone)
