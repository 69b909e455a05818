"""PostgreSQL schema: numbered migrations applied once under a lock, and the SQL built on it."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import Any

import asyncpg

from core_alerts.domain.errors import ConfigError
from core_alerts.domain.lifecycle import COUNTER_FIELDS
from core_alerts.store.rows import (
    ALERT_COLUMNS,
    DECISION_COLUMNS,
    HISTORY_COLUMNS,
    INSERT_COLUMNS,
    UPDATE_COLUMNS,
)

# Any fixed 64-bit key: every core-alerts process that starts takes the same lock.
MIGRATION_LOCK = 0x636F_7265_616C_7274  # "corealrt"

# jsonb goes through asyncpg's built-in codec (str in and out, binary on the wire) and rows.py
# encodes/decodes it with msgspec. Measured against a msgspec set_type_codec(format="text"):
# that reads ~1.4 us per value faster but writes ~4 us per value slower, and ingest (the hot
# path) writes labels and annotations of every new alert but reads few rows (store.py
# plans repeats from memory). It also keeps rows.py shared with SQLite unchanged.
#
# Array types for unnest(): one parameter per column, so a batch is one statement.
COLUMN_TYPES = {
    "seq": "bigint",
    "xmin": "bigint",
    "labels": "jsonb",
    "annotations": "jsonb",
    "details": "jsonb",
    "ends_at_explicit": "boolean",
    "occurrences": "bigint",
    **dict.fromkeys(
        ("at", "starts_at", "ends_at", "first_seen", "last_seen", "updated_at", "acked_at",
         "resolved_at"),
        "double precision",
    ),
}  # fmt: skip


def columns(spec: str) -> list[str]:
    return [c.strip() for c in spec.split(",")]


def _unnest(names: Sequence[str], first: int = 1) -> str:
    """unnest() of one array parameter per column, numbered from `first`."""
    arrays = ", ".join(f"${i}::{COLUMN_TYPES.get(c, 'text')}[]" for i, c in enumerate(names, first))
    return f"unnest({arrays})"


def insert_sql(table: str, spec: str, suffix: str = "", first: int = 1) -> str:
    return f"INSERT INTO {table} ({spec}) SELECT * FROM {_unnest(columns(spec), first)} {suffix}"


STAGED_ALERTS = "staged_alerts"
"""A temporary table per connection that large groups COPY their new alerts into: binary
COPY costs the service about a third of the `unnest` arrays per row (asyncpg checks every
array element), for more exchanges with the server."""
CREATE_STAGED_ALERTS = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGED_ALERTS} ("
    + ", ".join(f"{c} {COLUMN_TYPES.get(c, 'text')}" for c in columns(INSERT_COLUMNS))
    # Only its session sees a temporary table, so PUBLIC means the service role here.
    + f") ON COMMIT DELETE ROWS; GRANT SELECT, INSERT ON {STAGED_ALERTS} TO PUBLIC"
)


def _insert_alerts_sql(first: int | None = 1) -> str:
    """New rows from unnest arrays numbered from `first`, or (None) from STAGED_ALERTS."""
    # A new (tenant, fingerprint) that another process inserted first is skipped, not an
    # error: the caller sees fewer RETURNING rows and retries the group, which then
    # deduplicates. A new row's sweep_at (0009_sweep_bound.sql) is its ends_at.
    source = (
        STAGED_ALERTS
        if first is None
        else f"{_unnest(columns(INSERT_COLUMNS), first)} AS u({INSERT_COLUMNS})"
    )
    return (
        f"INSERT INTO alerts ({INSERT_COLUMNS}, sweep_at) SELECT {INSERT_COLUMNS}, ends_at "
        f"FROM {source} "
        "ON CONFLICT (tenant_id, fingerprint) DO NOTHING RETURNING seq, tenant_id, fingerprint"
    )


def _update_sql(names: Sequence[str], sweep_at: str, first: int = 1, checked: bool = False) -> str:
    """UPDATE rows by seq from unnest arrays: `names` (then seq), and sweep_at's new value.

    `checked`: one more array, the xmin each row is expected to have; a row that has
    another is left alone and not returned (the caller counts the rows returned).
    """
    keyed = [*names, "seq", *(["xmin"] if checked else [])]
    sets = ", ".join(f"{c} = u.{c}" for c in names)
    check = " AND a.xmin::text::bigint = u.xmin RETURNING 1" if checked else ""
    return (
        f"UPDATE alerts AS a SET {sets}, sweep_at = {sweep_at} "
        f"FROM {_unnest(keyed, first)} AS u({', '.join(keyed)}) WHERE a.seq = u.seq{check}"
    )


INSERT_HISTORY = insert_sql("alert_history", HISTORY_COLUMNS)
INSERT_DECISIONS = insert_sql("alert_decisions", DECISION_COLUMNS)
# A full update moves sweep_at to ends_at. A repeat (COUNTER_FIELDS) moves it only down, so
# it stays a lower bound of ends_at and usually keeps its value: no index changes.
_FULL_SWEEP = "u.ends_at"
_COUNTER_SWEEP = (
    "CASE WHEN a.sweep_at IS NULL OR u.ends_at < a.sweep_at THEN u.ends_at ELSE a.sweep_at END"
)
UPDATE_ALERTS = _update_sql(columns(UPDATE_COLUMNS), _FULL_SWEEP)
# An alert the sweep found before its (moved) ends_at: look again at its ends_at.
RAISE_SWEEP = (
    "UPDATE alerts AS a SET sweep_at = u.ends_at FROM unnest($1::bigint[], "
    "$2::double precision[]) AS u(seq, ends_at) WHERE a.seq = u.seq"
)

# Every write of a group commit in one statement (one round trip; on this 2-core machine a
# round trip to a busy server took 0.4-0.7 ms, more than planning 200 sends). Its parts are
# disjoint: new rows, counter-only updates, full updates (both checked against the xmin
# the plan assumed), history, decisions; an empty part gets empty arrays. It returns one
# row: the transaction's id, how many rows the updates changed, and the new rows' seq,
# tenant_id and fingerprint as three arrays.
WRITE_WIDTHS = (
    len(columns(INSERT_COLUMNS)),
    len(COUNTER_FIELDS) + 2,
    len(columns(UPDATE_COLUMNS)) + 2,
    len(columns(HISTORY_COLUMNS)),
    len(columns(DECISION_COLUMNS)),
)
"""Parameters of each part of WRITE_GROUP, in order (one array per column)."""


def _write_group_sql(staged: bool) -> str:
    widths = (0, *WRITE_WIDTHS[1:]) if staged else WRITE_WIDTHS
    starts = list(itertools.accumulate((1, *widths[:-1])))
    counters = _update_sql(COUNTER_FIELDS, _COUNTER_SWEEP, starts[1], checked=True)
    full = _update_sql(columns(UPDATE_COLUMNS), _FULL_SWEEP, starts[2], checked=True)
    insert = _insert_alerts_sql(None if staged else starts[0])
    return (
        f"WITH ins AS ({insert}), cnt AS ({counters}), upd AS ({full}), "
        f"his AS ({insert_sql('alert_history', HISTORY_COLUMNS, first=starts[3])}), "
        f"dec AS ({insert_sql('alert_decisions', DECISION_COLUMNS, first=starts[4])}) "
        "SELECT txid_current(), (SELECT count(*) FROM cnt) + (SELECT count(*) FROM upd), "
        "ARRAY(SELECT seq FROM ins), ARRAY(SELECT tenant_id FROM ins), "
        "ARRAY(SELECT fingerprint FROM ins)"
    )


WRITE_GROUP = _write_group_sql(staged=False)
WRITE_STAGED_GROUP = _write_group_sql(staged=True)
"""WRITE_GROUP with the new rows from STAGED_ALERTS: no parameters for them."""


SELECT_ALERTS = f"SELECT {ALERT_COLUMNS} FROM alerts"
# Locks the stored rows of the keys and says which version each is (xmin: the transaction
# that wrote it), so a process can reuse the records it wrote itself (store.py).
# One unique-index probe per key (LATERAL), whatever the table statistics say: `= ANY($2)`
# let the planner scan the whole tenant when statistics were stale. Keys arrive sorted, so
# every writer locks rows in the same order and no deadlock cycle can form.
LOCK_KEYS = (
    "SELECT a.fingerprint, a.seq, a.xmin::text::bigint "
    "FROM unnest($2::text[]) WITH ORDINALITY AS k(fp, n), "
    "LATERAL (SELECT fingerprint, seq, xmin FROM alerts WHERE tenant_id = $1 "
    "AND fingerprint = k.fp FOR UPDATE) a ORDER BY k.n"
)
SELECT_BY_SEQ = f"{SELECT_ALERTS} WHERE seq = ANY($1::bigint[])"
LOCK_BY_ID = f"{SELECT_ALERTS} WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
# SKIP LOCKED: several sweepers (processes) share the due rows instead of queueing on them.
LOCK_DUE = (
    f"{SELECT_ALERTS} WHERE status <> 'resolved' AND sweep_at <= $1 "
    "ORDER BY sweep_at LIMIT $2 FOR UPDATE SKIP LOCKED"
)
_BY_ALERT = "WHERE tenant_id = $1 AND alert_id = $2 ORDER BY seq"
HISTORY = f"SELECT {HISTORY_COLUMNS} FROM alert_history {_BY_ALERT}"
DECISIONS = f"SELECT {DECISION_COLUMNS} FROM alert_decisions {_BY_ALERT}"


def transpose(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Row tuples -> one list per column (the unnest parameters)."""
    return [list(col) for col in zip(*rows, strict=True)]


_MARK = re.compile(r"\?")


def numbered(sql: str) -> str:
    """`?` placeholders (store/filters.py) -> PostgreSQL's `$1..$n`.

    Safe because filters.py never puts a `?` inside a literal.
    """
    counter = itertools.count(1)
    return _MARK.sub(lambda _: f"${next(counter)}", sql)


def migration_files() -> list[tuple[str, str]]:
    """(version, SQL) of every migration shipped in migrations/, oldest first.

    Read before connecting, so a packaging mistake fails loudly instead of looking like an
    unreachable database.
    """
    folder = resources.files(__package__).joinpath("migrations")
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".sql")), key=lambda e: e.name)
    return [(e.name.removesuffix(".sql"), e.read_text(encoding="utf-8")) for e in entries]


async def migrate(conn: asyncpg.Connection, migrations: list[tuple[str, str]]) -> list[str]:
    """Apply pending migrations in one transaction; return the versions applied.

    The advisory lock makes processes that start together wait for the first one, which
    then finds the migrations done, instead of racing on CREATE TABLE.
    """
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version text PRIMARY KEY, applied_at double precision NOT NULL)"
        )
        done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, sql in migrations:
            if version in done:
                continue
            # No parameters: the simple query protocol runs the whole multi-statement file.
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2)", version, time.time()
            )
            applied.append(version)
    return applied


def begin_for_all_tenants(wall: str) -> str:
    """BEGIN and the wall statement for work across tenants ('*'), as one simple query:
    one round trip instead of two."""
    return f"BEGIN; {wall.replace('$1', quote_literal('*'), 1)}"


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def wall_statement(conn: Any, role: str | None) -> str:
    """`SELECT set_config(...)` that names the transaction's tenant, and takes the service
    role when it exists and this login may use it (then row-level security applies)."""
    tenant = "set_config('core_alerts.tenant', $1, true)"
    if role and await conn.fetchval(
        "SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = $1", role
    ):
        return f"SELECT {tenant}, set_config('role', {quote_literal(role)}, true)"
    return f"SELECT {tenant}"


async def keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection needs before its next use: nothing. asyncpg rolls back an
    open transaction first; the service sets only transaction-local settings (the wall's
    `set_config(..., true)`), takes only transaction-level advisory locks and never
    LISTENs, so the default reset query (`RESET ALL`, `CLOSE ALL`, `UNLISTEN *`, advisory
    unlock) would undo nothing, and cost one round trip per release: on the serial group
    commit, one more per group."""


async def open_migrated_pool(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    connect_timeout: float,
    command_timeout: float | None,
    app_name: str,
    role: str | None,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> tuple[Any, str]:
    """A pool on a migrated schema, and the statement that opens each transaction of the
    service (see wall_statement); `init` runs on each new connection. A failure leaves no
    connection behind."""
    try:  # read first: a packaging mistake must not look like an unreachable database
        migrations = migration_files()
    except OSError as exc:
        raise ConfigError(
            f"the schema migrations are missing from this installation: {exc}"
        ) from None
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        timeout=connect_timeout,
        command_timeout=command_timeout,
        server_settings={"application_name": app_name},
        reset=keep_session,
        init=init,
    )
    try:
        async with pool.acquire(timeout=connect_timeout) as conn:
            await migrate(conn, migrations)
            wall = await wall_statement(conn, role)
    except BaseException:
        pool.terminate()
        raise
    return pool, wall
