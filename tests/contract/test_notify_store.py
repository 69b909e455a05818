"""The NotifyStore contract on every backend: configs, group timers, the notification log and
the outbox (claims and leases, retries, dead letters, replay), plus PostgreSQL's tenant wall."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
import msgspec
import pytest

from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import LimitExceeded, StorageUnavailable, ValidationFailed
from core_alerts.domain.notification import Notification, NotifiedAlert
from core_alerts.store import GroupState, Lease, LogEntry, NotifyStore, OutboxEntry, Outcome
from core_alerts.store.postgres import PostgresNotifyStore
from core_alerts.store.sqlite import SqliteNotifyStore
from tests.contract.conftest import Target

T = 1_800_000_000.0  # the conftest clock's start
TABLES = ("notify_configs", "notify_groups", "notify_log", "notify_outbox", "notify_alert_index")


@pytest.fixture
def make_store(target: Target, clock: FixedClock) -> Callable[[], NotifyStore]:
    def make() -> NotifyStore:
        if target.kind == "sqlite":
            return SqliteNotifyStore(target.where, clock=clock)
        return PostgresNotifyStore(target.where, clock=clock)

    return make


@pytest.fixture
async def store(
    target: Target, make_store: Callable[[], NotifyStore]
) -> AsyncIterator[NotifyStore]:
    opened = make_store()
    await opened.open()
    await target.empty(*TABLES)
    yield opened
    await opened.close()


def note(
    nid: str, *alerts: str, tenant: str = "acme", at: float = T, group: str = "g1"
) -> Notification:
    carried = tuple(
        NotifiedAlert(
            alert_id=a,
            fingerprint=f"fp-{a}",
            status="firing",
            labels={"alertname": a},
            annotations={"summary": "disk"},
            starts_at=at - 60.5,
            ends_at=None,
        )
        for a in alerts or ("a1",)
    )
    return Notification(
        id=nid,
        tenant_id=tenant,
        receiver="ops",
        integration="webhook[0]",
        group_key=group,
        group_labels={"team": "db"},
        alerts=carried,
        created_at=at,
        truncated_alerts=1,
    )


def log_entry(
    integration: str = "webhook[0]",
    *,
    firing: Sequence[str] = ("a1",),
    tenant: str = "acme",
    at: float = T,
    ttl: float = 3600.0,
) -> LogEntry:
    return LogEntry(
        tenant_id=tenant,
        group_key="g1",
        receiver="ops",
        integration=integration,
        firing=list(firing),
        resolved=["r1"],
        at=at,
        expires_at=at + ttl,
    )


def group(tenant: str, key: str, *, flush_at: float = T + 30, flushed: bool = False) -> GroupState:
    return GroupState(
        tenant_id=tenant,
        group_key=key,
        route_key="{}",
        receiver="ops",
        group_labels={"team": key},
        created_at=T,
        next_flush_at=flush_at,
        flushed=flushed,
    )


async def stored(store: NotifyStore, nid: str) -> OutboxEntry:
    found = await store.get_outbox("acme", nid)
    assert found is not None, nid
    return found


async def ids_of(store: NotifyStore, tenant: str = "acme", **filters: Any) -> list[str]:
    return [e.id for e in (await store.list_outbox(tenant, limit=1000, **filters)).entries]


async def test_config_versions_count_per_tenant_and_stay_apart(store: NotifyStore) -> None:
    assert await store.get_config("acme") is None
    assert (await store.put_config("acme", "route: {}", "ann", T)).version == 1
    saved = await store.put_config("acme", "route: {receiver: ops}", "bob", T + 5)
    assert (saved.version, saved.text, saved.updated_by, saved.updated_at) == (
        2,
        "route: {receiver: ops}",
        "bob",
        T + 5,
    )
    assert type(saved.updated_at) is float
    assert (await store.put_config("beta", "x", "cy", T)).version == 1
    assert await store.get_config("acme") == saved
    assert await store.config_versions() == {"acme": 2, "beta": 1}
    with pytest.raises(ValidationFailed):
        await store.get_config("*")  # would lift the tenant wall


async def test_groups_are_upserted_deleted_and_loaded(store: NotifyStore) -> None:
    await store.save_groups([group("acme", "g1"), group("acme", "g2"), group("beta", "g1")])
    await store.save_groups([group("acme", "g1", flush_at=T + 300, flushed=True)])
    loaded = {(g.tenant_id, g.group_key): g for g in await store.load_groups()}
    assert len(loaded) == 3
    assert loaded[("acme", "g1")] == group("acme", "g1", flush_at=T + 300, flushed=True)
    assert (
        loaded[("acme", "g2")].group_labels == {"team": "g2"} and not loaded[("acme", "g2")].flushed
    )
    await store.delete_groups("acme", [("g1", "ops"), ("g2", "other-receiver")])
    left = [(g.tenant_id, g.group_key) for g in await store.load_groups()]
    assert sorted(left) == [("acme", "g2"), ("beta", "g1")]


async def test_enqueue_stores_pending_entries_and_the_log(store: NotifyStore) -> None:
    first, second = note("n1", "a1", "a2"), note("n2", at=T + 1)
    await store.enqueue([first, second], [log_entry(), log_entry("slack[0]", firing=["a2"])])
    entry = await store.get_outbox("acme", "n1")
    assert entry is not None and entry.notification == first
    assert (entry.state, entry.attempts, entry.next_attempt_at, entry.updated_at) == (
        "pending",
        0,
        T,
        T,
    )
    assert (entry.last_error, entry.delivered_at) == ("", None)
    assert await ids_of(store) == ["n1", "n2"]
    assert await store.read_log("acme", "g1", "ops") == [
        log_entry("slack[0]", firing=["a2"]),
        log_entry(),
    ]
    assert await store.read_log("acme", "g1", "nobody") == []
    assert await store.read_log("beta", "g1", "ops") == []


async def test_enqueue_is_idempotent_and_the_log_upsert_replaces(store: NotifyStore) -> None:
    await store.enqueue([note("n1", "a1")], [log_entry(firing=["a1"])])
    changed = note("n1", "a9", at=T + 50)
    await store.enqueue(
        [changed, note("n2"), note("n2")], [log_entry(firing=["a1", "a2"], at=T + 9)]
    )
    assert await ids_of(store) == ["n1", "n2"]
    kept = await store.get_outbox("acme", "n1")
    assert kept is not None and kept.notification == note("n1", "a1")
    assert await store.for_alert("acme", "a9") == []  # the repeat added no index rows
    assert await store.read_log("acme", "g1", "ops") == [log_entry(firing=["a1", "a2"], at=T + 9)]
    assert await store.counts() == {("acme", "pending"): 2}


async def test_enqueue_is_one_transaction(store: NotifyStore) -> None:
    not_a_time: Any = "not a time"  # refused by the database, after the outbox insert
    broken = msgspec.structs.replace(log_entry("x"), at=not_a_time)
    with pytest.raises(StorageUnavailable):
        await store.enqueue([note("n1")], [log_entry(), broken])
    assert await store.get_outbox("acme", "n1") is None
    assert await store.read_log("acme", "g1", "ops") == []


async def test_log_alert_ids_are_the_firing_ids_of_unexpired_entries(
    store: NotifyStore, clock: FixedClock
) -> None:
    await store.enqueue(
        [],
        [
            log_entry(firing=["a1", "a2"]),
            log_entry("slack[0]", firing=["a2", "a3"], ttl=100),
            log_entry("email[0]", firing=["gone"], ttl=-1),
            log_entry(tenant="beta", firing=["b1"]),
        ],
    )
    found = await store.log_alert_ids("acme")
    assert sorted(found) == [("g1", "ops", a) for a in ("a1", "a2", "a3")]
    assert len(found) == 3  # a2 is in two entries, reported once
    clock.advance(100)
    assert sorted(await store.log_alert_ids("acme")) == [("g1", "ops", "a1"), ("g1", "ops", "a2")]
    assert [e.integration for e in await store.read_log("acme", "g1", "ops")] == ["webhook[0]"]


async def test_claims_go_oldest_first_up_to_the_limit_and_respect_leases(
    store: NotifyStore,
) -> None:
    assert await store.next_due() is None
    await store.enqueue(
        [note("n3", at=T + 2), note("n1"), note("n2", at=T + 1), note("n4", at=T + 100)], []
    )
    assert await store.next_due() == T
    first = await store.claim_due(T + 10, 2, 30, "w1")
    assert [e.id for e in first] == ["n1", "n2"]
    assert all(type(e.next_attempt_at) is float and type(e.updated_at) is float for e in first)
    assert [e.id for e in await store.claim_due(T + 10, 10, 30, "w2")] == ["n3"]
    assert await store.claim_due(T + 39, 10, 30, "w3") == []  # leased until T+40
    assert await store.next_due() == T + 40  # when the leases end, not the past due times
    assert await store.claim_due(T + 10, 10, 30, "w1") == []  # in flight, even for its owner
    again = await store.claim_due(T + 40, 10, 30, "w2")
    assert [e.id for e in again] == ["n1", "n2", "n3"]  # expired leases
    assert await store.claim_due(T + 40, 0, 30, "w3") == []


async def test_entries_enqueued_under_a_lease_come_back_claimed(store: NotifyStore) -> None:
    assert await store.enqueue([note("n0")], []) == []  # no lease: nothing returned
    taken = await store.enqueue(
        [note("n2", at=T + 1), note("n1"), note("n0")], [log_entry()], Lease("w1", T + 30)
    )
    assert [e.id for e in taken] == ["n1", "n2"]  # the new ones, oldest first; n0 was there
    assert all(e.state == "pending" and e.attempts == 0 for e in taken)
    assert [e.notification.id for e in taken] == ["n1", "n2"]
    assert [e.id for e in await store.claim_due(T + 10, 10, 30, "w2")] == ["n0"]  # not leased
    assert await store.claim_due(T + 29, 10, 30, "w2") == []  # n1, n2 are w1's until T+30
    assert [e.id for e in await store.claim_due(T + 30, 10, 30, "w2")] == ["n1", "n2"]


async def test_concurrent_claimers_never_share_an_entry(
    store: NotifyStore, make_store: Callable[[], NotifyStore]
) -> None:
    await store.enqueue([note(f"n{i:02d}", at=T + i) for i in range(40)], [])
    other = make_store()  # a second process on the same database
    await other.open()
    try:
        claims = await asyncio.gather(
            *(s.claim_due(T + 100, 7, 60, f"w{i}") for i, s in enumerate([store, other] * 4))
        )
    finally:
        await other.close()
    claimed = [e.id for batch in claims for e in batch]
    assert len(claimed) == len(set(claimed)) == 40


async def test_delivered_retried_and_dead_entries(store: NotifyStore) -> None:
    await store.enqueue([note("n1"), note("n2"), note("n3")], [])
    await store.claim_due(T, 10, 600, "w1")
    await store.mark_delivered("n1", 1, T + 1)
    await store.retry_later("n2", 2, T + 60, "HTTP 503 " + "x" * 10_000, T + 2)
    await store.mark_dead("n3", 5, "HTTP 400: bad payload", T + 3)
    done, retry, dead = [await stored(store, i) for i in ("n1", "n2", "n3")]
    assert (done.state, done.attempts, done.delivered_at, done.updated_at) == (
        "delivered",
        1,
        T + 1,
        T + 1,
    )
    assert (retry.state, retry.attempts, retry.next_attempt_at, retry.updated_at) == (
        "pending",
        2,
        T + 60,
        T + 2,
    )
    assert retry.last_error.startswith("HTTP 503") and len(retry.last_error) <= 4096
    assert (dead.state, dead.attempts, dead.last_error) == ("dead", 5, "HTTP 400: bad payload")
    assert await store.next_due() == T + 60
    assert await store.claim_due(T + 59, 10, 60, "w2") == []
    assert [e.id for e in await store.claim_due(T + 60, 10, 60, "w2")] == ["n2"]  # lease released
    await store.retry_later("n1", 9, T, "late", T + 9)  # a stale worker cannot revive n1
    assert (await stored(store, "n1")).state == "delivered"


async def test_record_writes_many_outcomes_in_one_call(store: NotifyStore) -> None:
    await store.enqueue([note("n1"), note("n2"), note("n3"), note("n4")], [])
    await store.claim_due(T, 10, 600, "w1")
    await store.mark_dead("n4", 1, "gone", T)
    await store.record(
        [
            Outcome(notification_id="n1", state="delivered", attempts=1, at=T + 1),
            Outcome(notification_id="n2", state="pending", attempts=1, at=T + 1,
                    next_attempt_at=T + 30, error="answered 503"),
            Outcome(notification_id="n3", state="dead", attempts=1, at=T + 1,
                    error="answered 400"),
            Outcome(notification_id="n4", state="delivered", attempts=2, at=T + 1),
        ]
    )  # fmt: skip
    n1, n2, n3, n4 = [await stored(store, i) for i in ("n1", "n2", "n3", "n4")]
    assert (n1.state, n1.delivered_at) == ("delivered", T + 1)
    assert (n2.state, n2.next_attempt_at, n2.last_error) == ("pending", T + 30, "answered 503")
    assert (n3.state, n3.last_error) == ("dead", "answered 400")
    assert (n4.state, n4.attempts) == ("dead", 1)  # no longer pending: left as it was
    assert [e.id for e in await store.claim_due(T + 30, 10, 60, "w2")] == ["n2"]
    await store.record([])


async def test_read_logs_reads_many_groups_at_once(store: NotifyStore) -> None:
    other = LogEntry(**{**msgspec.structs.asdict(log_entry()), "group_key": "g2"})
    expired = LogEntry(**{**msgspec.structs.asdict(log_entry(ttl=-1)), "group_key": "g3"})
    foreign = log_entry(tenant="beta")
    await store.enqueue([], [log_entry(), log_entry("slack[0]"), other, expired, foreign])
    found = await store.read_logs("acme", [("g1", "ops"), ("g2", "ops"), ("g3", "ops"),
                                           ("g1", "nobody"), ("g1", "ops")])  # fmt: skip
    assert sorted((e.group_key, e.integration) for e in found) == [
        ("g1", "slack[0]"), ("g1", "webhook[0]"), ("g2", "webhook[0]"),
    ]  # fmt: skip
    assert await store.read_logs("acme", []) == []


async def test_list_outbox_filters_pages_and_stays_in_the_tenant(store: NotifyStore) -> None:
    await store.enqueue([note(f"n{i}") for i in range(5)] + [note("m1", tenant="beta")], [])
    await store.claim_due(T, 2, 60, "w")
    await store.mark_dead("n0", 1, "no", T)
    await store.mark_dead("n1", 1, "no", T)
    pages, after = [], None
    while True:
        page = await store.list_outbox("acme", after=after, limit=2)
        pages.append([e.id for e in page.entries])
        if (after := page.next_after) is None:
            break
    assert pages == [["n0", "n1"], ["n2", "n3"], ["n4"]]
    assert await ids_of(store, state="dead") == ["n0", "n1"]
    assert await ids_of(store, state="pending", after="n2") == ["n3", "n4"]
    assert await ids_of(store, "beta") == ["m1"]
    assert (
        await store.get_outbox("beta", "n1") is None
        and await store.get_outbox("acme", "m1") is None
    )
    with pytest.raises(ValidationFailed):
        await store.list_outbox("acme", limit=0)
    with pytest.raises(LimitExceeded):
        await store.list_outbox("acme", limit=1001)
    with pytest.raises(ValidationFailed):
        await store.list_outbox("acme", state="lost")  # type: ignore[arg-type]


async def test_replay_moves_only_dead_entries_back(store: NotifyStore) -> None:
    await store.enqueue([note(f"n{i}") for i in range(5)] + [note("m1", tenant="beta")], [])
    await store.claim_due(T, 10, 60, "w")
    for nid in ("n0", "n1", "n2", "m1"):
        await store.mark_dead(nid, 7, "down", T + 1)
    await store.mark_delivered("n4", 1, T + 1)
    assert await store.replay("acme", ["n0", "n3", "n4", "m1", "nope"], T + 50) == 1
    back = await stored(store, "n0")
    assert (back.state, back.attempts, back.next_attempt_at, back.updated_at) == (
        "pending",
        0,
        T + 50,
        T + 50,
    )
    assert [e.id for e in await store.claim_due(T + 50, 10, 60, "w2")] == ["n0"]  # lease gone too
    assert await store.replay("acme", [], T + 60) == 0
    assert await store.replay("acme", None, T + 60) == 2
    assert await ids_of(store, state="dead") == []
    assert (await stored(store, "n4")).state == "delivered"
    assert await ids_of(store, "beta", state="dead") == ["m1"]


async def test_for_alert_finds_every_entry_that_carried_it(store: NotifyStore) -> None:
    await store.enqueue(
        [
            note("n1", "a1", "a2", at=T + 5),
            note("n2", "a2", at=T),
            note("n3", "a3"),
            note("m1", "a2", tenant="beta"),
        ],
        [],
    )
    assert [e.id for e in await store.for_alert("acme", "a2")] == ["n2", "n1"]  # oldest first
    assert [e.id for e in await store.for_alert("beta", "a2")] == ["m1"]
    assert await store.for_alert("acme", "nope") == []


async def test_counts_and_purge(store: NotifyStore, target: Target) -> None:
    await store.enqueue(
        [
            note("old", "a1"),
            note("new", "a2"),
            note("dead"),
            note("wait"),
            note("m1", tenant="beta"),
        ],
        [log_entry(ttl=10), log_entry("slack[0]", ttl=1000)],
    )
    await store.claim_due(T, 10, 60, "w")
    await store.mark_delivered("old", 1, T + 5)
    await store.mark_delivered("new", 1, T + 500)
    await store.mark_dead("dead", 3, "x", T + 5)
    await store.retry_later("wait", 1, T + 5, "x", T + 5)
    assert await store.counts() == {
        ("acme", "delivered"): 2,
        ("acme", "dead"): 1,
        ("acme", "pending"): 1,
        ("beta", "pending"): 1,
    }
    assert await store.purge(T + 100) == 1
    assert await ids_of(store) == ["dead", "new", "wait"]
    assert await store.for_alert("acme", "a2") != []
    assert await target.count("notify_alert_index") == 4  # old's index row went with it
    assert await target.count("notify_log") == 1
    assert (await store.counts())[("acme", "delivered")] == 1


async def test_everything_survives_a_reopen(
    store: NotifyStore, make_store: Callable[[], NotifyStore]
) -> None:
    await store.put_config("acme", "route: {}", "ann", T)
    await store.enqueue([note("n1")], [log_entry()])
    await store.close()
    again = make_store()
    await again.open()  # the migrations are applied once
    try:
        config = await again.get_config("acme")
        assert config is not None and config.version == 1
        assert await ids_of(again) == ["n1"]
        assert len(await again.read_log("acme", "g1", "ops")) == 1
    finally:
        await again.close()


@pytest.fixture
async def pg_store(pg_dsn: str, clock: FixedClock) -> AsyncIterator[NotifyStore]:
    opened = PostgresNotifyStore(pg_dsn, clock=clock)
    await opened.open()
    await Target("postgres", pg_dsn).empty(*TABLES)
    yield opened
    await opened.close()


async def test_postgres_row_level_security_hides_other_tenants_rows(
    pg_store: NotifyStore, pg_dsn: str
) -> None:
    """As the service role, a query without a tenant filter sees only the tenant it names."""
    for tenant in ("acme", "beta"):
        await pg_store.put_config(tenant, "route: {}", "ann", T)
        await pg_store.save_groups([group(tenant, "g1")])
        await pg_store.enqueue([note(f"{tenant}-n1", tenant=tenant)], [log_entry(tenant=tenant)])
    conn = await asyncpg.connect(pg_dsn)
    try:

        async def visible(tenant: str | None, table: str) -> list[str]:
            async with conn.transaction():
                await conn.execute("SET LOCAL ROLE core_alerts_app")
                if tenant is not None:
                    await conn.execute("SELECT set_config('core_alerts.tenant', $1, true)", tenant)
                rows = await conn.fetch(f"SELECT DISTINCT tenant_id FROM {table} ORDER BY 1")
                return [r[0] for r in rows]

        for table in TABLES:
            assert await visible("acme", table) == ["acme"], table
            assert await visible(None, table) == [], table
            assert await visible("*", table) == ["acme", "beta"], table
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE core_alerts_app")
            await conn.execute("SELECT set_config('core_alerts.tenant', 'acme', true)")
            assert (
                await conn.execute("DELETE FROM notify_outbox WHERE tenant_id = 'beta'")
                == "DELETE 0"
            )
    finally:
        await conn.close()
    assert await ids_of(pg_store, "beta") == ["beta-n1"]
