"""The AuditLog contract on every backend: append, list, per-tenant chains, concurrency, and
tampering done directly in the database (as someone with database rights would)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
import msgspec
import pytest

from core_alerts.domain.audit import (
    GENESIS_HASH,
    AuditDraft,
    AuditEntry,
    TamperKind,
    chain_hash,
)
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import LimitExceeded, ValidationFailed
from core_alerts.store import AlertQuery
from core_alerts.store.audit import ENTRY_COLUMNS, AuditLog, entry_params, verify_log
from core_alerts.store.postgres.audit import PostgresAuditLog
from core_alerts.store.postgres.schema import numbered
from core_alerts.store.sqlite import SqliteAlertStore
from core_alerts.store.sqlite.audit import SqliteAuditLog
from tests.contract.conftest import Target

KEY = b"contract-test-audit-key-0123456789"


@pytest.fixture
def make_log(target: Target, clock: FixedClock) -> Callable[[], AuditLog]:
    def make() -> AuditLog:
        if target.kind == "sqlite":
            return SqliteAuditLog(target.where, key=KEY, clock=clock)
        return PostgresAuditLog(target.where, key=KEY, clock=clock)

    return make


@pytest.fixture
async def log(make_log: Callable[[], AuditLog]) -> AsyncIterator[AuditLog]:
    opened = make_log()
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def tenant() -> str:
    """PostgreSQL keeps one database per session: a fresh tenant keeps tests apart."""
    return f"t-{uuid.uuid4().hex[:12]}"


class RawDatabase:
    """Direct SQL on the audit tables, with the append-only triggers switched off for the
    statements (a superuser or the table owner can do this; the chain must still tell)."""

    def __init__(self, target: Target) -> None:
        self.target = target

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.target.kind == "sqlite":
            with sqlite3.connect(self.target.where) as conn:
                return conn.execute(sql, params).fetchall()
        conn = await asyncpg.connect(self.target.where)
        try:
            return [tuple(r) for r in await conn.fetch(numbered(sql), *params)]
        finally:
            await conn.close()

    async def tamper(self, *statements: tuple[str, Sequence[Any]]) -> None:
        if self.target.kind == "sqlite":
            self._tamper_sqlite(statements)
            return
        conn = await asyncpg.connect(self.target.where)
        try:
            async with conn.transaction():  # the triggers are off for this transaction only
                for table in ("audit_entries", "audit_heads"):
                    await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                for sql, params in statements:
                    await conn.execute(numbered(sql), *params)
                for table in ("audit_entries", "audit_heads"):
                    await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        finally:
            await conn.close()

    def _tamper_sqlite(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        conn = sqlite3.connect(self.target.where, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            triggers = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('audit_entries', 'audit_heads')"
            ).fetchall()
            for name, _ in triggers:
                conn.execute(f'DROP TRIGGER "{name}"')
            for sql, params in statements:
                conn.execute(sql, params)
            for _, sql in triggers:
                conn.execute(sql)
            conn.execute("COMMIT")
        finally:
            conn.close()

    async def unprotected(self, sql: str, *params: Any) -> None:
        """A plain write, triggers on: expected to be refused."""
        if self.target.kind == "sqlite":
            with sqlite3.connect(self.target.where) as conn:
                conn.execute(sql, params)
            return
        conn = await asyncpg.connect(self.target.where)
        try:
            await conn.execute(numbered(sql), *params)
        finally:
            await conn.close()

    async def row(self, tenant: str, seq: int) -> tuple[Any, ...]:
        [found] = await self.fetch(
            f"SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE tenant_id = ? AND seq = ?",
            tenant,
            seq,
        )
        return found


@pytest.fixture
def raw(target: Target) -> RawDatabase:
    return RawDatabase(target)


def draft(i: int = 0, **kw: Any) -> AuditDraft:
    fields: dict[str, Any] = {
        "actor": f"user:{i}",
        "action": "alert.ack",
        "target_type": "alert",
        "target_id": f"a{i}",
        "details": {"n": i, "big": 1e16, "ok": True, "none": None, "text": "déjà vu"},
    }
    return AuditDraft(**{**fields, **kw})


async def seven(log: AuditLog, tenant: str) -> list[AuditEntry]:
    """A chain of 7 entries, appended as batches of 3, 1 and 3."""
    entries: list[AuditEntry] = []
    for batch in ([0, 1, 2], [3], [4, 5, 6]):
        entries += await log.append(tenant, [draft(i) for i in batch])
    return entries


async def verdict(log: AuditLog, tenant: str) -> tuple[bool, int | None, TamperKind | None]:
    report = await verify_log(log, tenant, key=KEY)
    return report.ok, report.bad_seq, report.kind


# -- append and read ----------------------------------------------------------------------


async def test_append_numbers_chains_and_reads_back_exactly(log, tenant, clock):
    first = await log.append(tenant, [draft(1), draft(2, at=1_700_000_000.123456)])
    [third] = await log.append(tenant, [draft(3, outcome="denied", details={"z": -0.0})])
    entries = [*first, third]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert (entries[0].at, entries[1].at) == (clock.now(), 1_700_000_000.123456)
    head = await log.head(tenant)
    assert head is not None and (head.seq, head.hash) == (3, third.hash)
    assert [e async for e in log.entries(tenant)] == entries
    assert (await log.list(tenant)).entries == entries
    report = await verify_log(log, tenant, key=KEY)
    assert (report.ok, report.checked, report.last_seq) == (True, 3, 3)


async def test_an_empty_append_stores_nothing(log, tenant):
    assert await log.append(tenant, []) == []
    assert await log.head(tenant) is None
    assert (await verify_log(log, tenant, key=KEY)).ok


async def test_a_bad_draft_fails_the_whole_append(log, tenant):
    bad = draft(2)
    bad.details["x"] = float("nan")
    with pytest.raises(ValidationFailed) as caught:
        await log.append(tenant, [draft(1), bad])
    assert caught.value.index == 1
    assert await log.head(tenant) is None
    assert (await log.list(tenant)).entries == []


async def test_list_filters_and_pages_with_a_cursor(log, tenant):
    await log.append(
        tenant,
        [
            draft(actor="alice", action="auth.login", at=100.0),
            draft(actor="bob", action="auth.login.failed", outcome="denied", at=200.0),
            draft(actor="alice", action="alert.ack", at=300.0),
            draft(actor="alice", action="alert.resolve", at=400.0),
            draft(actor="bob", action="config.change", at=500.0),
        ],
    )

    async def seqs(**kw: Any) -> list[int]:
        return [e.seq for e in (await log.list(tenant, **kw)).entries]

    assert await seqs(action_prefix="auth.") == [1, 2]
    assert await seqs(action_prefix="alert") == [3, 4]
    assert await seqs(action_prefix="%") == []  # a prefix, not a LIKE pattern
    assert await seqs(actor="alice") == [1, 3, 4]
    assert await seqs(since=200.0, until=400.0) == [2, 3]
    assert await seqs(actor="alice", action_prefix="alert.", since=350.0) == [4]

    pages, cursor = [], None
    while True:
        page = await log.list(tenant, after_seq=cursor, limit=2)
        pages.append([e.seq for e in page.entries])
        if page.next_after_seq is None:
            break
        cursor = page.next_after_seq
    assert pages == [[1, 2], [3, 4], [5]]
    page = await log.list(tenant, actor="alice", limit=2)
    assert ([e.seq for e in page.entries], page.next_after_seq) == ([1, 3], 3)
    assert await seqs(actor="alice", after_seq=3, limit=2) == [4]


async def test_list_limits_are_checked(log, tenant):
    with pytest.raises(ValidationFailed):
        await log.list(tenant, limit=0)
    with pytest.raises(LimitExceeded):
        await log.list(tenant, limit=1001)


async def test_entries_stream_across_chunks(log, tenant):
    for start in range(0, 1005, 335):
        await log.append(tenant, [draft(i) for i in range(start, start + 335)])
    seqs = [e.seq async for e in log.entries(tenant)]
    assert seqs == list(range(1, 1006))
    assert [e.seq async for e in log.entries(tenant, after_seq=999)] == list(range(1000, 1006))
    report = await verify_log(log, tenant, key=KEY)
    assert (report.ok, report.checked) == (True, 1005)


async def test_chains_are_per_tenant(log, tenant):
    other = f"{tenant}-b"
    for i in range(3):
        await log.append(tenant, [draft(i, actor="a")])
        await log.append(other, [draft(i, actor="b")])
    mine, theirs = (await log.list(tenant)).entries, (await log.list(other)).entries
    assert [(e.seq, e.tenant_id, e.actor) for e in mine] == [(s, tenant, "a") for s in (1, 2, 3)]
    assert [(e.seq, e.tenant_id, e.actor) for e in theirs] == [(s, other, "b") for s in (1, 2, 3)]
    assert {e.tenant_id async for e in log.entries(other)} == {other}
    assert mine[0].prev_hash == theirs[0].prev_hash == GENESIS_HASH
    assert (await log.head(tenant)) != (await log.head(other))
    assert (await verify_log(log, tenant, key=KEY)).ok
    assert (await verify_log(log, other, key=KEY)).ok


async def test_concurrent_appends_never_fork_the_chain(log, make_log, tenant):
    second = make_log()  # another connection, as another process would have
    await second.open()
    try:
        results = await asyncio.gather(
            *(
                (log if i % 2 else second).append(tenant, [draft(i)])
                for i in range(50)
            )
        )  # fmt: skip
    finally:
        await second.close()
    assert sorted(e.seq for batch in results for e in batch) == list(range(1, 51))
    head = await log.head(tenant)
    assert head is not None and head.seq == 50
    report = await verify_log(log, tenant, key=KEY)
    assert (report.ok, report.checked) == (True, 50)


class AppendsDuringWalk:
    """The real log, where another writer appends right after the walk over the entries."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self.appended = False

    async def head(self, tenant_id: str) -> Any:
        return await self.log.head(tenant_id)

    async def entries(self, tenant_id: str, *, after_seq: int = 0) -> AsyncIterator[AuditEntry]:
        async for entry in self.log.entries(tenant_id, after_seq=after_seq):
            yield entry
        if not self.appended:
            self.appended = True
            await self.log.append(tenant_id, [draft(99)])


async def test_an_append_during_verification_is_not_taken_for_tampering(log, tenant):
    await seven(log, tenant)
    report = await verify_log(AppendsDuringWalk(log), tenant, key=KEY)
    assert (report.ok, report.checked, report.last_seq) == (True, 8, 8)


# -- the database refuses changes ---------------------------------------------------------


async def test_the_database_refuses_updates_and_deletes(log, tenant, raw):
    await seven(log, tenant)
    refused = (sqlite3.DatabaseError, asyncpg.PostgresError)
    for sql in (
        "UPDATE audit_entries SET actor = 'mallory' WHERE tenant_id = ? AND seq = 2",
        "DELETE FROM audit_entries WHERE tenant_id = ? AND seq = 7",
        "DELETE FROM audit_heads WHERE tenant_id = ?",
        "UPDATE audit_heads SET seq = 6 WHERE tenant_id = ?",
    ):
        with pytest.raises(refused, match=r"append-only|only moves forward|cannot be deleted"):
            await raw.unprotected(sql, tenant)
    assert (await verdict(log, tenant)) == (True, None, None)


async def test_the_database_refuses_emptying_the_table(log, tenant, target, raw):
    await seven(log, tenant)
    # SQLite has no TRUNCATE; its DELETE without WHERE still runs the row triggers.
    sql = "TRUNCATE audit_entries" if target.kind == "postgres" else "DELETE FROM audit_entries"
    with pytest.raises((sqlite3.DatabaseError, asyncpg.PostgresError), match="append-only"):
        await raw.unprotected(sql)
    assert (await verdict(log, tenant)) == (True, None, None)


# -- tampering is named -------------------------------------------------------------------

EDITS: dict[str, Callable[[AuditEntry], Any]] = {
    "at": lambda e: e.at + 1.0,
    "actor": lambda e: "mallory",
    "action": lambda e: "alert.unack",
    "target_type": lambda e: "incident",
    "target_id": lambda e: "other",
    "outcome": lambda e: "denied",
    "details": lambda e: '{"note":"forged"}',
    "prev_hash": lambda e: "f" * 64,
    "hash": lambda e: "e" * 64,
}


@pytest.mark.parametrize("column", EDITS)
async def test_editing_any_field_of_a_middle_row_names_it(log, tenant, raw, column):
    entries = await seven(log, tenant)
    value = EDITS[column](entries[3])
    await raw.tamper(
        (f"UPDATE audit_entries SET {column} = ? WHERE tenant_id = ? AND seq = 4", (value, tenant))
    )
    assert (await verdict(log, tenant)) == (False, 4, TamperKind.EDITED)


async def test_deleting_a_middle_row_names_the_gap(log, tenant, raw):
    await seven(log, tenant)
    await raw.tamper(("DELETE FROM audit_entries WHERE tenant_id = ? AND seq = 4", (tenant,)))
    assert (await verdict(log, tenant)) == (False, 4, TamperKind.DELETED)


async def test_deleting_the_last_row_is_caught_by_the_head(log, tenant, raw):
    await seven(log, tenant)
    await raw.tamper(("DELETE FROM audit_entries WHERE tenant_id = ? AND seq = 7", (tenant,)))
    assert (await verdict(log, tenant)) == (False, 7, TamperKind.TRUNCATED)
    # Appending afterwards continues from the head: the hole stays visible.
    [next_entry] = await log.append(tenant, [draft(8)])
    assert next_entry.seq == 8
    assert (await verdict(log, tenant)) == (False, 7, TamperKind.DELETED)


async def test_deleting_the_head_row_is_reported(log, tenant, raw):
    await seven(log, tenant)
    await raw.tamper(("DELETE FROM audit_heads WHERE tenant_id = ?", (tenant,)))
    report = await verify_log(log, tenant, key=KEY)
    assert (report.ok, report.kind) == (False, TamperKind.TRUNCATED)
    assert "head row is missing" in report.reason


async def test_swapping_two_rows_is_a_reorder(log, tenant, raw):
    await seven(log, tenant)
    content = ENTRY_COLUMNS.split(", ")[2:]  # all but tenant_id and seq
    second, fifth = await raw.row(tenant, 2), await raw.row(tenant, 5)
    assignments = ", ".join(f"{c} = ?" for c in content)
    update = f"UPDATE audit_entries SET {assignments} WHERE tenant_id = ? AND seq = ?"
    await raw.tamper(
        (update, (*fifth[2:], tenant, 2)),
        (update, (*second[2:], tenant, 5)),
    )
    assert (await verdict(log, tenant)) == (False, 2, TamperKind.REORDERED)


async def test_a_forged_row_after_the_last_is_an_insert(log, tenant, raw):
    entries = await seven(log, tenant)
    forged = msgspec.structs.replace(entries[-1], seq=8, prev_hash=entries[-1].hash, actor="eve")
    forged = msgspec.structs.replace(forged, hash=chain_hash(None, forged.prev_hash, forged))
    await raw.tamper(
        (
            f"INSERT INTO audit_entries ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            entry_params(forged),
        )
    )
    assert (await verdict(log, tenant)) == (False, 8, TamperKind.INSERTED)


async def test_a_chain_recomputed_without_the_key_fails_under_it(log, tenant, raw):
    """Edit entry 3, recompute every later hash with plain SHA-256, move the head along."""
    entries = await seven(log, tenant)
    statements: list[tuple[str, Sequence[Any]]] = []
    prev = entries[1].hash
    for entry in entries[2:]:
        actor = "mallory" if entry.seq == 3 else entry.actor
        unsealed = msgspec.structs.replace(entry, actor=actor, prev_hash=prev)
        prev = chain_hash(None, prev, unsealed)
        statements.append(
            (
                "UPDATE audit_entries SET actor = ?, prev_hash = ?, hash = ? "
                "WHERE tenant_id = ? AND seq = ?",
                (actor, unsealed.prev_hash, prev, tenant, entry.seq),
            )
        )
    statements.append(("UPDATE audit_heads SET hash = ? WHERE tenant_id = ?", (prev, tenant)))
    await raw.tamper(*statements)
    report = await verify_log(log, tenant, key=KEY)
    assert (report.ok, report.bad_seq, report.kind) == (False, 3, TamperKind.EDITED)
    assert "without the audit key" in report.reason


# -- SQLite: one file with the alert store ------------------------------------------------


@pytest.mark.parametrize("log_first", [True, False])
async def test_sqlite_log_shares_the_alert_store_file(tmp_path, clock, log_first):
    path = str(tmp_path / "shared.db")
    store = SqliteAlertStore(path, clock=clock)
    audit = SqliteAuditLog(path, key=KEY, clock=clock)
    for opening in (audit, store) if log_first else (store, audit):
        await opening.open()
    try:
        await audit.append("acme", [draft(1)])
        assert (await store.query("acme", AlertQuery())).items == []
        assert (await verify_log(audit, "acme", key=KEY)).ok
    finally:
        await audit.close()
        await store.close()
