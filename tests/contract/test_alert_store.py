"""The AlertStore contract: every backend must pass the same tests, with the same results."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
import pytest

from core_alerts.config import LimitSettings
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import (
    AlertNotFound,
    ConflictError,
    InvalidTransition,
    StorageUnavailable,
)
from core_alerts.domain.ingest import IngestOutcome, NormalizedAlert, PackedSend, SendAction
from core_alerts.domain.lifecycle import HumanAction
from core_alerts.domain.matchers import Matcher, parse_matcher
from core_alerts.domain.record import Decision
from core_alerts.ingest.normalize import SourceContext, normalize
from core_alerts.store import AlertQuery, AlertStore
from core_alerts.store.postgres import PostgresAlertStore
from core_alerts.store.postgres import store as pg_store_module
from core_alerts.store.postgres.schema import migrate, migration_files
from core_alerts.store.sqlite import SqliteAlertStore
from core_alerts.store.sqlite.backlog import read_intake
from tests.support.services import free_port, temporary_pg_database

LIMITS = LimitSettings()
DISK = {"alertname": "DiskFull", "host": "db1"}


@dataclass
class Target:
    kind: str
    where: str
    groups: list[int]
    """Requests per group commit, as reported to on_group."""


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Any) -> Target:
    # Resolved in a sync fixture: pg_dsn runs asyncio.run(), which a running loop forbids.
    if request.param == "sqlite":
        return Target("sqlite", str(tmp_path / "alerts.db"), [])
    return Target("postgres", request.getfixturevalue("pg_dsn"), [])


@pytest.fixture
def make_store(target: Target, clock: FixedClock) -> Callable[[], AlertStore]:
    def on_group(requests: int, sends: int, seconds: float) -> None:
        target.groups.append(requests)

    def make() -> AlertStore:
        if target.kind == "sqlite":
            return SqliteAlertStore(target.where, clock=clock, on_group=on_group)
        return PostgresAlertStore(target.where, clock=clock, pool_size=4, on_group=on_group)

    return make


@pytest.fixture
async def store(target: Target, make_store: Callable[[], AlertStore]) -> AsyncIterator[AlertStore]:
    s = make_store()
    await s.open()
    if target.kind == "postgres":  # one database per session: empty it for each test
        conn = await asyncpg.connect(target.where)
        await conn.execute("TRUNCATE alerts, alert_history, alert_decisions RESTART IDENTITY")
        await conn.close()
    yield s
    await s.close()


@pytest.fixture
async def pg_store(pg_dsn: str, clock: FixedClock) -> AsyncIterator[AlertStore]:
    s = PostgresAlertStore(pg_dsn, clock=clock, pool_size=2)
    await s.open()
    conn = await asyncpg.connect(pg_dsn)
    await conn.execute("TRUNCATE alerts, alert_history, alert_decisions RESTART IDENTITY")
    await conn.close()
    yield s
    await s.close()


@pytest.fixture
async def other_pg_store(
    pg_store: AlertStore, pg_dsn: str, clock: FixedClock
) -> AsyncIterator[AlertStore]:
    """Another process's store on pg_store's database."""
    s = PostgresAlertStore(pg_dsn, clock=clock, pool_size=2)
    await s.open()
    yield s
    await s.close()


def send(
    clock: FixedClock,
    labels: dict[str, str] | None = None,
    *,
    tenant: str = "acme",
    source: str = "prometheus",
    resolve_timeout: float | None = None,
    **kw: Any,
) -> NormalizedAlert:
    ctx = SourceContext(tenant, source, clock.now(), LIMITS, resolve_timeout)
    return normalize(ctx, labels=DISK if labels is None else labels, **kw)


async def one(store: AlertStore, alert: NormalizedAlert) -> Any:
    [result] = await store.apply_sends([alert])
    return result


# -- dedup and the send lifecycle ---------------------------------------------------------


async def test_create_then_dedup_counts_and_refreshes_content(store, clock):
    t0 = clock.now()
    first = await one(store, send(clock, {"alertname": "A", "v": "1"}, dedup_key="k1"))
    assert (first.outcome, first.occurrences) == (IngestOutcome.CREATED, 1)
    clock.advance(60)
    again = send(
        clock, {"alertname": "A", "v": "2"}, dedup_key="k1", severity="critical",
        annotations={"summary": "second"},
    )  # fmt: skip
    second = await one(store, again)
    assert (second.outcome, second.alert_id, second.occurrences) == (
        IngestOutcome.DEDUPLICATED, first.alert_id, 2,
    )  # fmt: skip
    rec = await store.get("acme", first.alert_id)
    assert rec is not None and rec.seq > 0
    assert (rec.first_seen, rec.last_seen, rec.starts_at) == (t0, t0 + 60, t0)
    assert rec.labels == {"alertname": "A", "v": "2"}
    assert (rec.annotations, rec.severity, rec.status) == (
        {"summary": "second"},
        "critical",
        "firing",
    )
    assert await store.get_by_fingerprint("acme", first.fingerprint) == rec


async def test_resolve_by_send_then_refire_clears_ack(store, clock):
    created = await one(store, send(clock))
    await store.transition("acme", created.alert_id, HumanAction.ACK, "alice", "")
    clock.advance(10)
    resolved = await one(store, send(clock, action=SendAction.RESOLVE))
    assert (resolved.outcome, resolved.status) == (IngestOutcome.RESOLVED, "resolved")
    rec = await store.get("acme", created.alert_id)
    assert rec is not None and rec.resolved_at == rec.ends_at == clock.now()
    again = await one(store, send(clock, action=SendAction.RESOLVE))
    assert again.outcome == IngestOutcome.DEDUPLICATED
    clock.advance(100)
    refired = await one(store, send(clock))
    assert (refired.outcome, refired.alert_id) == (IngestOutcome.REFIRED, created.alert_id)
    rec = await store.get("acme", created.alert_id)
    assert rec is not None
    assert (rec.status, rec.starts_at, rec.occurrences) == ("firing", clock.now(), 2)
    assert rec.acked_by is rec.acked_at is rec.resolved_at is rec.ends_at is None


async def test_ack_send_for_unknown_alert_is_ignored_and_stores_nothing(store, clock):
    result = await one(store, send(clock, action=SendAction.ACK))
    assert result.outcome == IngestOutcome.IGNORED
    assert (await store.query("acme", AlertQuery())).items == []


# -- expiry -----------------------------------------------------------------------------


async def test_expire_due_gives_different_reasons_for_ends_at_and_resolve_timeout(store, clock):
    t0 = clock.now()
    explicit = await one(store, send(clock, {"alertname": "E"}, ends_at=t0 + 100))
    timed = await one(store, send(clock, {"alertname": "T"}, resolve_timeout=300))
    clock.advance(150)
    [(rec, tr)] = await store.expire_due(100)
    assert (rec.id, rec.status, rec.resolved_at) == (explicit.alert_id, "resolved", t0 + 100)
    assert (tr.actor, tr.reason, tr.from_status) == ("system", "endsAt passed", "firing")
    clock.advance(200)
    [(rec, tr)] = await store.expire_due(100)
    assert (rec.id, rec.resolved_at) == (timed.alert_id, t0 + 300)
    assert tr.reason == "resolve_timeout: the source stopped re-sending"
    assert await store.expire_due(100) == []
    stored = await store.get("acme", timed.alert_id)
    assert stored is not None and stored.status == "resolved"
    assert (await store.history("acme", timed.alert_id))[-1] == tr


async def test_concurrent_sweepers_resolve_each_alert_once(store, make_store, target, clock):
    await store.apply_sends(
        [send(clock, {"n": str(i)}, ends_at=clock.now() + 1) for i in range(30)]
    )
    clock.advance(5)
    other = make_store()
    if target.kind == "sqlite":  # one process per SQLite file; the second open is refused
        with pytest.raises(StorageUnavailable, match="in use by another"):
            await other.open()
        other = store
    else:
        await other.open()
    try:
        runs = await asyncio.gather(*(s.expire_due(10) for s in (store, other, store, other)))
    finally:
        if other is not store:
            await other.close()
    swept = [rec.id for run in runs for rec, _ in run]
    swept += [rec.id for rec, _ in await store.expire_due(100)]
    assert len(swept) == len(set(swept)) == 30


async def test_a_repeat_that_moves_the_end_moves_the_expiry(store, clock):
    t0 = clock.now()
    later = await one(store, send(clock, {"alertname": "Later"}, ends_at=t0 + 100))
    sooner = await one(store, send(clock, {"alertname": "Sooner"}, ends_at=t0 + 100))
    clock.advance(10)
    await one(store, send(clock, {"alertname": "Later"}, ends_at=t0 + 300))
    await one(store, send(clock, {"alertname": "Sooner"}, ends_at=t0 + 50))
    clock.advance(50)  # t0 + 60
    assert [r.id for r, _ in await store.expire_due(100)] == [sooner.alert_id]
    clock.advance(100)  # t0 + 160: past the first end, before the moved one
    assert await store.expire_due(100) == []
    assert (await store.get("acme", later.alert_id)).status == "firing"
    clock.advance(150)
    [(rec, tr)] = await store.expire_due(100)
    assert (rec.id, rec.resolved_at, tr.reason) == (later.alert_id, t0 + 300, "endsAt passed")


# -- human actions and history ----------------------------------------------------------


async def test_human_actions_and_every_invalid_one(store, clock):
    alert_id = (await one(store, send(clock))).alert_id
    act = store.transition
    rec = await act("acme", alert_id, HumanAction.ACK, "alice", "")
    assert (rec.status, rec.acked_by, rec.acked_at) == ("acknowledged", "alice", clock.now())
    with pytest.raises(InvalidTransition):
        await act("acme", alert_id, HumanAction.ACK, "alice", "")
    rec = await act("acme", alert_id, HumanAction.UNACK, "bob", "")
    assert (rec.status, rec.acked_by, rec.acked_at) == ("firing", None, None)
    with pytest.raises(InvalidTransition):
        await act("acme", alert_id, HumanAction.UNACK, "bob", "")
    rec = await act("acme", alert_id, HumanAction.RESOLVE, "carol", "")
    assert (rec.status, rec.resolved_at) == ("resolved", clock.now())
    for action in HumanAction:
        with pytest.raises(InvalidTransition):
            await act("acme", alert_id, action, "dave", "")
    assert len(await store.history("acme", alert_id)) == 4  # refused actions write nothing
    assert await store.get("acme", alert_id) == rec


async def test_unknown_alert_raises_not_found(store):
    with pytest.raises(AlertNotFound):
        await store.transition("acme", "no-such-id", HumanAction.ACK, "alice", "")
    assert await store.get("acme", "no-such-id") is None
    assert await store.history("acme", "no-such-id") == []


async def test_history_is_ordered_with_actor_reason_and_comment(store, clock):
    t0 = clock.now()
    alert_id = (await one(store, send(clock, source="grafana"))).alert_id
    for actor, action, comment in [
        ("alice", HumanAction.ACK, "looking"), ("bob", HumanAction.UNACK, ""),
        ("carol", HumanAction.RESOLVE, "fixed the disk"),
    ]:  # fmt: skip
        clock.advance(1)
        await store.transition("acme", alert_id, action, actor, comment)
    got = [
        (h.at - t0, h.from_status, h.to_status, h.actor, h.reason, h.comment)
        for h in await store.history("acme", alert_id)
    ]
    assert got == [
        (0, None, "firing", "source", "created from grafana", ""),
        (1, "firing", "acknowledged", "alice", "ack by alice", "looking"),
        (2, "acknowledged", "firing", "bob", "unack by bob", ""),
        (3, "firing", "resolved", "carol", "resolve by carol", "fixed the disk"),
    ]


# -- tenants ----------------------------------------------------------------------------


async def test_get_many_reads_the_latest_state_as_copies(store, clock):
    a = await one(store, send(clock, {"alertname": "A"}))
    b = await one(store, send(clock, {"alertname": "B"}))
    other = await one(store, send(clock, {"alertname": "A"}, tenant="beta"))
    clock.advance(30)
    await one(store, send(clock, {"alertname": "A"}, annotations={"summary": "again"}))
    await store.transition("acme", b.alert_id, HumanAction.ACK, "alice", "")
    found = {r.id: r for r in await store.get_many("acme", [a.alert_id, b.alert_id])}
    assert found[a.alert_id].occurrences == 2
    assert found[a.alert_id].annotations == {"summary": "again"}
    assert found[b.alert_id].status == "acknowledged"
    found[a.alert_id].annotations["summary"] = "changed by the caller"
    [again] = await store.get_many("acme", [a.alert_id])
    assert again.annotations == {"summary": "again"}  # the store's copy is untouched
    assert await store.get_many("acme", [other.alert_id]) == []  # another tenant's alert
    mixed = await store.get_many("acme", [a.alert_id, "no-such-id"])
    assert [r.id for r in mixed] == [a.alert_id]
    await store.delete_alerts("acme", [b.alert_id])
    assert await store.get_many("acme", [b.alert_id]) == []


async def test_sqlite_get_many_of_fresh_alerts_needs_no_backlog_flush(tmp_path, clock):
    store = SqliteAlertStore(str(tmp_path / "cache.db"), clock=clock)
    await store.open()
    try:
        made = await store.apply_sends([send(clock, {"alertname": "A", "n": str(i)})
                                        for i in range(20)])  # fmt: skip
        pending = len(store._backlog)
        assert pending == 20  # committed to the intake, rows not written yet
        records = await store.get_many("acme", [r.alert_id for r in made])
        assert sorted(r.id for r in records) == sorted(r.alert_id for r in made)
        assert len(store._backlog) == pending  # answered from memory: no write, no fsync
    finally:
        await store.close()


async def test_tenants_are_isolated(store, clock):
    a = await one(store, send(clock, tenant="a"))
    b = await one(store, send(clock, tenant="b"))
    assert a.fingerprint == b.fingerprint and a.alert_id != b.alert_id
    assert a.outcome == b.outcome == IngestOutcome.CREATED
    assert await store.get("b", a.alert_id) is None
    assert [r.id for r in (await store.query("a", AlertQuery())).items] == [a.alert_id]
    with pytest.raises(AlertNotFound):
        await store.transition("b", a.alert_id, HumanAction.ACK, "mallory", "")
    assert await store.history("b", a.alert_id) == []
    rec_a = await store.get_by_fingerprint("a", a.fingerprint)
    rec_b = await store.get_by_fingerprint("b", b.fingerprint)
    assert rec_a is not None and rec_b is not None
    assert (rec_a.id, rec_a.status, rec_b.id) == (a.alert_id, "firing", b.alert_id)


# -- atomicity and group commit ---------------------------------------------------------


async def test_bad_request_writes_nothing_and_its_group_neighbour_commits(store, target, clock):
    existing = await one(store, send(clock, {"alertname": "Existing"}))
    target.groups.clear()
    bad = [
        send(clock, {"alertname": "Existing"}),  # would bump occurrences
        send(clock, {"alertname": "X"}, alert_id="same-id"),
        send(clock, {"alertname": "Y"}, alert_id="same-id"),  # violates unique (tenant, id)
    ]
    good = [send(clock, {"alertname": "Good"})]
    outcome = await asyncio.gather(store.apply_sends(bad), store.apply_sends(good),
                                   return_exceptions=True)  # fmt: skip
    assert isinstance(outcome[0], ConflictError)
    assert [r.outcome for r in outcome[1]] == [IngestOutcome.CREATED]
    assert target.groups == [2]  # both were in one group commit
    rec = await store.get("acme", existing.alert_id)
    assert rec is not None and rec.occurrences == 1
    assert await store.get("acme", "same-id") is None
    names = {r.labels["alertname"] for r in (await store.query("acme", AlertQuery())).items}
    assert names == {"Existing", "Good"}
    assert len(await store.history("acme", existing.alert_id)) == 1


async def test_alert_id_of_another_stored_alert_conflicts(store, clock):
    await one(store, send(clock, {"alertname": "A"}, alert_id="taken"))
    with pytest.raises(ConflictError):
        await one(store, send(clock, {"alertname": "B"}, alert_id="taken"))
    rec = await store.get("acme", "taken")
    assert rec is not None and rec.labels == {"alertname": "A"}


async def test_group_commit_of_concurrent_requests_for_one_fingerprint(store, target, clock):
    requests = [[send(clock), send(clock), send(clock)] for _ in range(50)]
    answers = await asyncio.gather(*(store.apply_sends(r) for r in requests))
    results = [res for answer in answers for res in answer]
    assert [r.outcome for r in results].count(IngestOutcome.CREATED) == 1
    assert len({r.alert_id for r in results}) == 1
    assert sorted(r.occurrences for r in results) == list(range(1, 151))
    [rec] = (await store.query("acme", AlertQuery())).items
    assert rec.occurrences == 150
    assert sum(target.groups) == 50 and max(target.groups) > 1
    assert await store.pending_writes() == 0


async def test_two_stores_on_one_database_create_a_new_alert_once(store, make_store, target, clock):
    other = make_store()  # another process, as far as the database can tell
    if target.kind == "sqlite":
        with pytest.raises(StorageUnavailable, match="in use by another"):
            await other.open()
        return
    await other.open()
    try:
        for round_ in range(5):
            labels = {"alertname": "Race", "round": str(round_)}
            calls = [
                s.apply_sends([send(clock, labels)]) for _ in range(10) for s in (store, other)
            ]
            results = [res for answer in await asyncio.gather(*calls) for res in answer]
            assert [r.outcome for r in results].count(IngestOutcome.CREATED) == 1
            rec = await store.get_by_fingerprint("acme", results[0].fingerprint)
            assert rec is not None and rec.occurrences == 20
    finally:
        await other.close()


# -- queries ----------------------------------------------------------------------------


async def ids(store: AlertStore, **filters: Any) -> list[str]:
    return [r.labels["alertname"] for r in (await store.query("acme", AlertQuery(**filters))).items]


async def test_query_by_status_counts_expired_as_resolved(store, clock):
    await one(store, send(clock, {"alertname": "Firing"}))
    acked = await one(store, send(clock, {"alertname": "Acked"}))
    await store.transition("acme", acked.alert_id, HumanAction.ACK, "alice", "")
    await one(store, send(clock, {"alertname": "Resolved"}, action=SendAction.RESOLVE))
    await one(store, send(clock, {"alertname": "Expired"}, ends_at=clock.now() + 10))
    clock.advance(20)  # Expired is still stored as firing: no sweep ran
    assert await ids(store, statuses=["firing"]) == ["Firing"]
    assert await ids(store, statuses=["resolved"]) == ["Expired", "Resolved"]
    assert await ids(store, statuses=["acknowledged", "firing"]) == ["Acked", "Firing"]
    assert await ids(store) == ["Expired", "Resolved", "Acked", "Firing"]


async def test_query_by_severity_and_label_matchers(store, clock):
    for name, env, sev in [("A", "prod", "critical"), ("B", "dev", "low"),
                           ("C", "staging", "critical"), ("D", "", "info")]:  # fmt: skip
        labels = {"alertname": name, **({"env": env} if env else {})}
        await one(store, send(clock, labels, severity=sev))
    assert await ids(store, severities=["critical"]) == ["C", "A"]
    assert await ids(store, severities=["low", "info"]) == ["D", "B"]
    m = parse_matcher
    assert await ids(store, matchers=[m('env=~"prod|stag.*"')]) == ["C", "A"]
    assert await ids(store, matchers=[m('env!~"prod|dev"')]) == ["D", "C"]
    assert await ids(store, matchers=[m('env=""')]) == ["D"]  # absent label = empty string
    assert await ids(store, matchers=[m('env!="prod"')], severities=["critical"]) == ["C"]
    assert await ids(store, matchers=[m('env=~"pro"')]) == []  # regexes are anchored


async def test_equality_matchers_filter_in_the_database_with_the_same_results(store, clock):
    """`name="value"` goes to SQL; values that look like JSON or SQL, prefixes and the
    quoting of names must not change what matches."""
    values = ["db", "db ", "d", "1", "true", "null", '"db"', "x' OR '1'='1", "Σ🙂"]
    for i, value in enumerate(values):
        await one(store, send(clock, {"alertname": f"A{i}", "team": value, "a.b": value}))
    await one(store, send(clock, {"alertname": "NoTeam"}))
    m = parse_matcher
    for i, value in enumerate(values):
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        assert await ids(store, matchers=[m(f'team="{quoted}"')]) == [f"A{i}"], value
    assert await ids(store, matchers=[m('team="db"'), m('alertname="A1"')]) == []
    assert await ids(store, matchers=[m('team=""')]) == ["NoTeam"]  # not pushed down
    named = [Matcher("a.b", "=", "db")]  # not a classic name: filtered in Python only
    assert await ids(store, matchers=named) == ["A0"]


async def test_query_since_and_until(store, clock):
    t0 = clock.now()
    for name in ("Old", "Mid", "New"):
        await one(store, send(clock, {"alertname": name}))
        clock.advance(100)
    assert await ids(store, since=t0 + 100) == ["New", "Mid"]
    assert await ids(store, until=t0 + 100) == ["Mid", "Old"]
    assert await ids(store, since=t0 + 100, until=t0 + 100) == ["Mid"]


async def walk(store: AlertStore, **filters: Any) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = await store.query("acme", AlertQuery(**filters, after_seq=cursor))
        pages.append([r.seq for r in page.items])
        if page.next_cursor is None:
            return pages
        assert page.next_cursor == page.items[-1].seq
        cursor = page.next_cursor


async def test_pagination_covers_every_row_once_newest_first(store, clock):
    await store.apply_sends([send(clock, {"alertname": f"A{i}"}) for i in range(21)])
    pages = await walk(store, limit=7)
    assert [len(p) for p in pages] == [7, 7, 7]  # no empty trailing page
    seqs = [s for p in pages for s in p]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 21


async def test_pagination_with_matchers_spans_several_batches(store, clock):
    await store.apply_sends([send(clock, {"alertname": "A", "n": str(i)}) for i in range(250)])
    pages = await walk(store, limit=20, matchers=[parse_matcher('n=~".*0"')])
    assert [len(p) for p in pages] == [20, 5]
    assert len({s for p in pages for s in p}) == 25


# -- decisions, ping, durability --------------------------------------------------------


async def test_decisions_round_trip(store, clock):
    alert_id = (await one(store, send(clock))).alert_id
    made = [
        Decision(tenant_id="acme", alert_id=alert_id, at=clock.now(), stage="suppression",
                 decision="pass", reason="no rule matched",
                 details={"rules": 3, "score": 0.25, "tags": ["a"], "nested": {"ok": True}}),
        Decision(tenant_id="acme", alert_id=alert_id, at=clock.now() + 1, stage="routing",
                 decision="notify", reason="team on call"),
    ]  # fmt: skip
    await store.add_decisions(made)
    await store.add_decisions([])
    assert await store.decisions("acme", alert_id) == made
    assert await store.decisions("other", alert_id) == []


async def test_ping(store):
    await store.ping()


async def test_committed_write_survives_close_and_reopen(store, make_store, clock):
    await store.close()  # one store per SQLite file at a time
    writer = make_store()
    await writer.open()
    result = await one(writer, send(clock))
    await one(writer, send(clock))
    await writer.transition("acme", result.alert_id, HumanAction.ACK, "alice", "mine")
    await writer.close()
    reader = make_store()
    await reader.open()
    try:
        rec = await reader.get("acme", result.alert_id)
        history = await reader.history("acme", result.alert_id)
    finally:
        await reader.close()
    assert rec is not None and (rec.occurrences, rec.status, rec.labels) == (
        2,
        "acknowledged",
        DISK,
    )
    assert [h.actor for h in history] == ["source", "alice"]


async def test_a_new_process_counts_sends_for_alerts_stored_before_it(store, make_store, clock):
    # The store of a new process has seen none of the stored alerts: a repeat, an
    # acknowledgement and a resolve must still find them (none is created again).
    fired = await one(store, send(clock, {"alertname": "Fired"}))
    acked = await one(store, send(clock, {"alertname": "Acked"}))
    resolved = await one(store, send(clock, {"alertname": "Resolved"}))
    await store.close()
    later = make_store()
    await later.open()
    try:
        clock.advance(10)
        results = [
            await one(later, send(clock, {"alertname": "Acked"}, action=SendAction.ACK)),
            await one(later, send(clock, {"alertname": "Fired"})),
            await one(later, send(clock, {"alertname": "Resolved"}, action=SendAction.RESOLVE)),
        ]
        assert [(r.alert_id, r.outcome) for r in results] == [
            (acked.alert_id, IngestOutcome.ACKNOWLEDGED),
            (fired.alert_id, IngestOutcome.DEDUPLICATED),
            (resolved.alert_id, IngestOutcome.RESOLVED),
        ]
        assert len((await later.query("acme", AlertQuery())).items) == 3
    finally:
        await later.close()


# -- PostgreSQL only: what has no SQLite counterpart ------------------------------------


async def test_postgres_unreachable_is_storage_unavailable():
    store = PostgresAlertStore(
        f"postgresql://postgres@127.0.0.1:{free_port()}/x", connect_timeout=1
    )
    with pytest.raises(StorageUnavailable):
        await store.ping()
    with pytest.raises(StorageUnavailable):
        await store.open()
    await store.close()


@pytest.fixture
def fresh_pg_dsn() -> Iterator[str]:
    with temporary_pg_database() as dsn:
        yield dsn


async def test_postgres_processes_starting_together_migrate_once(fresh_pg_dsn, clock):
    stores = [PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=2) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    await asyncio.gather(*(s.close() for s in stores))
    conn = await asyncpg.connect(fresh_pg_dsn)
    try:
        shipped = len(migration_files())
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == shipped
    finally:
        await conn.close()


async def test_postgres_store_analyzes_a_new_alerts_table_as_it_grows(fresh_pg_dsn, clock):
    # Prepared statements planned while the table was empty would otherwise keep reading
    # the whole table per key until autovacuum's first ANALYZE (growth.py).
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    for i in range(8):
        await store.apply_sends([send(clock, {"alertname": "warm", "i": str(i)})])
    for start in range(0, 1500, 500):
        await store.apply_sends(
            [send(clock, {"alertname": "grow", "i": str(i)}) for i in range(start, start + 500)]
        )
    await store.close()  # waits for the ANALYZE it started
    conn = await asyncpg.connect(fresh_pg_dsn)
    try:
        assert (
            await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'alerts'") >= 1000
        )
    finally:
        await conn.close()


async def test_postgres_sweep_passes_over_alerts_whose_end_moved(pg_store, clock):
    # Ten alerts were due first but had their end moved by a repeat; they come first in
    # the sweep's order and must not hide the one that is due now.
    t0 = clock.now()
    await pg_store.apply_sends(
        [send(clock, {"alertname": "Moved", "n": str(i)}, ends_at=t0 + 10) for i in range(10)]
    )
    due = await one(pg_store, send(clock, {"alertname": "Due"}, ends_at=t0 + 20))
    await pg_store.apply_sends(
        [send(clock, {"alertname": "Moved", "n": str(i)}, ends_at=t0 + 900) for i in range(10)]
    )
    clock.advance(30)
    assert [r.id for r, _ in await pg_store.expire_due(3)] == [due.alert_id]
    assert await pg_store.expire_due(3) == []


async def test_postgres_repeats_change_no_index(fresh_pg_dsn, clock):
    # A repeat moves counters and ends_at only: PostgreSQL can then write the new row
    # version without index entries (a HOT update), about 3 times less work.
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    labels = [{"alertname": "Storm", "n": str(i)} for i in range(20)]
    await store.apply_sends([send(clock, lb, ends_at=clock.now() + 60) for lb in labels])
    for _ in range(10):
        clock.advance(15)
        await store.apply_sends([send(clock, lb, ends_at=clock.now() + 60) for lb in labels])
    await store.close()
    conn = await asyncpg.connect(fresh_pg_dsn)
    try:
        stats = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'alerts'"
        for _ in range(200):  # a closed backend reports its statistics as it exits
            updated, hot = await conn.fetchrow(stats)
            if updated >= 200:
                break
            await asyncio.sleep(0.1)
        # Before the sweep bound every one of them changed the ends_at index. A few still
        # do when a transaction fills its page with new versions.
        assert updated == 200 and hot >= 150
    finally:
        await conn.close()


async def test_postgres_store_sees_what_another_process_changed(pg_store, other_pg_store, clock):
    # The writing process plans from the records it wrote while their rows are unchanged;
    # another process's writes must show through.
    other = other_pg_store

    def packed(annotations: dict[str, str]) -> PackedSend:
        return PackedSend.of(send(clock, {"alertname": "Shared"}, annotations=annotations))

    [first] = await pg_store.apply_sends([packed({"s": "1"})])
    await pg_store.apply_sends([packed({"s": "1"})])
    [counted] = await other.apply_sends([packed({"s": "1"})])
    assert counted.occurrences == 3
    await other.transition("acme", first.alert_id, HumanAction.ACK, "bob", "")
    assert await other.update_annotations("acme", first.alert_id, {"s": "edited"})
    [seen] = await pg_store.apply_sends([packed({"s": "1"})])
    assert (seen.status, seen.occurrences) == ("acknowledged", 4)
    rec = await pg_store.get("acme", first.alert_id)
    assert (rec.annotations, rec.acked_by) == ({"s": "1"}, "bob")


async def test_postgres_repeat_of_an_alert_another_process_deleted_creates_it(
    pg_store, other_pg_store, clock
):
    first = await one(pg_store, send(clock))
    await one(pg_store, send(clock))  # now planned from memory
    assert await other_pg_store.delete_alerts("acme", [first.alert_id]) == 1
    again = await one(pg_store, send(clock))
    assert (again.outcome, again.occurrences) == (IngestOutcome.CREATED, 1)
    assert again.alert_id != first.alert_id
    assert [r.id for r in (await pg_store.query("acme", AlertQuery())).items] == [again.alert_id]


async def test_postgres_two_processes_repeating_the_same_alerts_lose_no_count(
    pg_store, other_pg_store, clock
):
    # Both plan from memory without locks; each sees the other's writes through xmin and
    # redoes its group with locks (also after a deadlock: one sends in reverse order).
    labels = [{"alertname": "Shared", "n": str(i)} for i in range(30)]
    await pg_store.apply_sends([send(clock, lb) for lb in labels])
    forward = [send(clock, lb) for lb in labels]

    async def repeat(store: AlertStore, sends: list[NormalizedAlert]) -> list[Any]:
        answers: list[Any] = []
        for _ in range(15):  # one request at a time: one group each
            try:
                answers.append(await store.apply_sends(sends))
            except StorageUnavailable as exc:  # "retry later": allowed, counted out
                answers.append(exc)
        return answers

    runs = await asyncio.gather(repeat(pg_store, forward), repeat(other_pg_store, forward[::-1]))
    answers = [a for run in runs for a in run]
    counted = 1 + sum(not isinstance(a, StorageUnavailable) for a in answers)
    items = (await pg_store.query("acme", AlertQuery(limit=100))).items
    assert len(items) == 30 and {r.occurrences for r in items} == {counted}


async def test_postgres_failed_group_leaves_its_connection_usable(fresh_pg_dsn, clock):
    # One connection: a group that fails must end its transaction (begun by hand) itself;
    # the pool would reset it, but tells the loop's exception handler when it has to.
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    loop.set_exception_handler(lambda _, context: reported.append(context["message"]))
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    try:
        await one(store, send(clock, {"alertname": "A"}, alert_id="single-conn"))
        for _ in range(3):
            with pytest.raises(ConflictError):
                await one(store, send(clock, {"alertname": "B"}, alert_id="single-conn"))
            assert (await one(store, send(clock, {"alertname": "A"}))).occurrences > 1
    finally:
        await store.close()
        loop.set_exception_handler(None)
    assert reported == []


async def test_postgres_pool_release_sends_nothing_and_the_next_use_starts_clean(pg_dsn, clock):
    # Releasing a connection costs no round trip (schema.keep_session); what a transaction
    # set (tenant, service role) ends with it, so the next user of the connection starts clean.
    s = PostgresAlertStore(pg_dsn, clock=clock, pool_size=1)
    await s.open()
    try:
        sent: list[str] = []
        async with s._conn("test") as conn:
            first = conn._con
            async with conn.transaction():
                await conn.execute(s._wall, "acme")
                assert await conn.fetchval("SELECT current_setting('core_alerts.tenant')") == "acme"
            conn.add_query_logger(lambda record: sent.append(record.query))
        assert sent == []
        async with s._conn("test") as conn:
            assert conn._con is first
            tenant = await conn.fetchval("SELECT current_setting('core_alerts.tenant', true)")
            assert tenant in ("", None)
            assert await conn.fetchval("SELECT current_user = session_user")
        assert sent == ["SELECT current_setting('core_alerts.tenant', true)",
                        "SELECT current_user = session_user"]  # fmt: skip
    finally:
        await s.close()


async def test_postgres_migration_keeps_active_alerts_expiring(fresh_pg_dsn, clock):
    # Alerts stored before the sweep bound (0009) existed are still resolved when due.
    conn = await asyncpg.connect(fresh_pg_dsn)
    try:
        before = [m for m in migration_files() if m[0] < "0009"]
        await migrate(conn, before)
        t0 = clock.now()
        await conn.execute(
            "INSERT INTO alerts (tenant_id, id, fingerprint, status, severity, title, "
            "description, source, labels, annotations, starts_at, ends_at, ends_at_explicit, "
            "first_seen, last_seen, updated_at, occurrences, generator_url) VALUES ('acme', "
            "'old', 'f0', 'firing', 'high', 'Old', '', 'prometheus', '{}', '{}', $1, $2, true, "
            "$1, $1, $1, 1, '')",
            t0, t0 + 10,
        )  # fmt: skip
    finally:
        await conn.close()
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    try:
        clock.advance(20)
        [(rec, _)] = await store.expire_due(10)
        assert (rec.id, rec.status, rec.resolved_at) == ("old", "resolved", t0 + 10)
    finally:
        await store.close()


# -- opening and closing ------------------------------------------------------------------


async def test_writes_before_open_and_after_close_are_refused(make_store, clock):
    fresh = make_store()
    labels = {"alertname": "OpenClose", "run": str(uuid.uuid4())}  # the database may be shared
    with pytest.raises(StorageUnavailable):
        await fresh.apply_sends([send(clock, labels)])
    await fresh.open()
    assert (await one(fresh, send(clock, labels))).outcome is IngestOutcome.CREATED
    await fresh.close()
    await fresh.close()  # closing twice is harmless
    with pytest.raises(StorageUnavailable):
        await fresh.apply_sends([send(clock)])
    with pytest.raises(StorageUnavailable):
        await fresh.ping()


async def test_a_rejected_request_leaves_no_trace_in_later_counts(store, clock):
    # The repeat of A in the rejected request must not count, in the database or in any
    # cache of it: the next repeat makes 2 occurrences, not 3.
    created = await one(store, send(clock, {"alertname": "A"}))
    await one(store, send(clock, {"alertname": "B"}, alert_id="taken"))
    t0 = clock.now()
    clock.advance(5)
    with pytest.raises(ConflictError):
        await store.apply_sends(
            [send(clock, {"alertname": "A"}), send(clock, {"alertname": "C"}, alert_id="taken")]
        )
    stored = await store.get("acme", created.alert_id)
    assert stored.occurrences == 1
    assert stored.last_seen == t0
    again = await one(store, send(clock, {"alertname": "A"}))
    assert (again.outcome, again.occurrences) == (IngestOutcome.DEDUPLICATED, 2)


async def test_repeats_of_an_unchanged_alert_update_its_counters(store, clock):
    first = await one(store, send(clock, {"alertname": "Same"}, annotations={"s": "1"}))
    for _ in range(3):
        clock.advance(10)
        await one(
            store,
            send(clock, {"alertname": "Same"}, annotations={"s": "1"}, ends_at=clock.now() + 60),
        )
    rec = await store.get("acme", first.alert_id)
    assert (rec.occurrences, rec.last_seen, rec.ends_at) == (4, clock.now(), clock.now() + 60)
    clock.advance(10)
    await one(store, send(clock, {"alertname": "Same"}, annotations={"s": "2"}))
    rec = await store.get("acme", first.alert_id)
    assert rec.annotations == {"s": "2"} and rec.occurrences == 5


async def test_packed_sends_count_repeats_and_see_every_content_change(store, clock):
    # How a decode worker hands sends over. A repeat is recognised by its content digest
    # (on SQLite), but an edit made since (update_annotations) must not be masked by it.
    def packed(**kw: Any) -> PackedSend:
        return PackedSend.of(send(clock, {"alertname": "Packed"}, annotations={"s": "1"}, **kw))

    [first] = await store.apply_sends([packed()])
    for _ in range(3):
        clock.advance(10)
        await store.apply_sends([packed(ends_at=clock.now() + 60)])
    rec = await store.get("acme", first.alert_id)
    assert (rec.occurrences, rec.ends_at, rec.annotations) == (4, clock.now() + 60, {"s": "1"})
    assert await store.update_annotations("acme", first.alert_id, {"s": "edited"})
    clock.advance(10)
    [again] = await store.apply_sends([packed()])
    assert (again.outcome, again.occurrences) == (IngestOutcome.DEDUPLICATED, 5)
    rec = await store.get("acme", first.alert_id)
    assert rec.annotations == {"s": "1"}


async def test_sqlite_replays_the_intake_after_a_crash(tmp_path, clock):
    # A crash between the intake commit (the 2xx) and the flush to rows: the next start
    # replays the intake, with the same ids and counts.
    path = str(tmp_path / "crash.db")
    crashed = SqliteAlertStore(path, clock=clock)
    await crashed.open()
    assert crashed._flusher is not None
    crashed._flusher.cancel()  # no periodic flush: the backlog stays in memory only
    first = await one(crashed, send(clock, {"alertname": "Crash"}))
    clock.advance(1)
    mixed = [send(clock, {"alertname": "Crash"}), send(clock, {"alertname": "T2"}, tenant="beta")]
    _, beta = await crashed.apply_sends(mixed)  # one request, two tenants: two intake rows
    explicit = await one(crashed, send(clock, {"alertname": "Mine"}, alert_id="chosen"))
    assert len(crashed._backlog) == 3
    await _crash(crashed)
    reopened = SqliteAlertStore(path, clock=clock)
    await reopened.open()
    try:
        rec = await reopened.get("acme", first.alert_id)
        assert rec is not None and rec.occurrences == 2 and rec.last_seen == clock.now()
        assert (await reopened.get("acme", explicit.alert_id)) is not None
        assert (await reopened.get("beta", beta.alert_id)) is not None
        assert (await reopened.get("acme", beta.alert_id)) is None
        history = await reopened.history("acme", first.alert_id)
        assert [h.to_status for h in history] == ["firing"]
        again = await one(reopened, send(clock, {"alertname": "Crash"}))
        assert (again.alert_id, again.occurrences) == (first.alert_id, 3)
    finally:
        await reopened.close()


async def _crash(store: SqliteAlertStore) -> None:
    """What SIGKILL does to the store's process, minus the OS: nothing more is written."""
    assert store._committer._task is not None
    store._committer._task.cancel()
    assert store._lock is not None and store._shared is not None
    await store._shared.release()  # its connection closes
    store._lock.close()


def _intake_kinds(path: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        entries = read_intake(conn)
    return [type(s).__name__ for _, (_, parts) in entries for part in parts for s in part]


async def test_sqlite_replay_expands_unchanged_repeats_in_order(tmp_path, clock):
    # Storm repeats are kept short in the intake; replay rebuilds each one from its alert as
    # it stands at that point, so a content change between repeats is kept, and so are the
    # counts and the last end time.
    path = str(tmp_path / "storm.db")
    crashed = SqliteAlertStore(path, clock=clock)
    await crashed.open()
    assert crashed._flusher is not None
    crashed._flusher.cancel()
    first = await one(crashed, send(clock, {"alertname": "Storm"}, annotations={"s": "1"}))
    await crashed.flush()  # the alert has its row; what follows stays in the intake
    clock.advance(5)
    storm = [
        send(clock, {"alertname": "Storm"}, annotations={"s": "1"}, ends_at=clock.now() + 60)
        for _ in range(3)
    ]
    await crashed.apply_sends(storm)
    clock.advance(5)
    changed = send(clock, {"alertname": "Storm"}, annotations={"s": "2"})
    last_end = clock.now() + 120
    after = send(clock, {"alertname": "Storm"}, annotations={"s": "2"}, ends_at=last_end)
    await crashed.apply_sends([PackedSend.of(changed), PackedSend.of(after)])
    assert _intake_kinds(path) == [
        *["UnchangedRepeat"] * 3,
        "NormalizedAlert",
        "UnchangedRepeat",
    ]
    await _crash(crashed)
    reopened = SqliteAlertStore(path, clock=clock)
    await reopened.open()
    try:
        rec = await reopened.get("acme", first.alert_id)
        assert rec is not None
        assert (rec.occurrences, rec.annotations) == (6, {"s": "2"})
        assert (rec.ends_at, rec.last_seen) == (last_end, clock.now())
        assert _intake_kinds(path) == []
    finally:
        await reopened.close()


async def test_sqlite_replays_intake_rows_of_full_sends(tmp_path, clock):
    # Intake rows written before repeats were kept short hold full sends only; an upgrade
    # after a crash must still replay them.
    path = str(tmp_path / "upgrade.db")
    store = SqliteAlertStore(path, clock=clock)
    await store.open()
    await store.close()
    old = [send(clock, {"alertname": "Old"}, alert_id="kept-id") for _ in range(2)]
    payload = msgspec.msgpack.encode((clock.now(), [old]))
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "INSERT INTO intake (tenant_id, at, payload) VALUES (?, ?, ?)",
            ("acme", clock.now(), payload),
        )
        conn.commit()
    reopened = SqliteAlertStore(path, clock=clock)
    await reopened.open()
    try:
        rec = await reopened.get("acme", "kept-id")
        assert rec is not None and rec.occurrences == 2
    finally:
        await reopened.close()


async def test_sqlite_background_flush_survives_a_failure(tmp_path, clock, monkeypatch):
    # A flush that fails keeps the backlog and the intake; the next flush writes them.
    store = SqliteAlertStore(str(tmp_path / "flaky.db"), clock=clock)
    await store.open()
    try:
        result = await one(store, send(clock, {"alertname": "Flaky"}))
        real_flush = store._backlog.flush

        def broken(conn):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(store._backlog, "flush", broken)
        await store._flush_logged()  # logs, does not raise
        assert len(store._backlog) == 1
        with pytest.raises(StorageUnavailable):
            await store.get("acme", result.alert_id)
        monkeypatch.setattr(store._backlog, "flush", real_flush)
        rec = await store.get("acme", result.alert_id)
        assert rec is not None and rec.occurrences == 1
        assert len(store._backlog) == 0
    finally:
        await store.close()


# -- retention ------------------------------------------------------------------------------


async def test_purge_removes_only_the_tenants_alerts_resolved_before_the_cutoff(store, clock):
    old = await one(store, send(clock, {"alertname": "Old"}, action=SendAction.RESOLVE))
    still = await one(store, send(clock, {"alertname": "Firing"}))
    other = await one(store, send(clock, {"alertname": "Old"}, tenant="beta",
                                  action=SendAction.RESOLVE))  # fmt: skip
    clock.advance(100)
    late = await one(store, send(clock, {"alertname": "Late"}, action=SendAction.RESOLVE))
    cutoff = clock.now() - 50
    assert await store.purge_resolved("acme", cutoff, limit=10) == 1
    assert await store.get("acme", old.alert_id) is None
    assert await store.history("acme", old.alert_id) == []
    for tenant, kept in (("acme", still), ("acme", late), ("beta", other)):
        assert await store.get(tenant, kept.alert_id) is not None
    assert await store.purge_resolved("acme", cutoff, limit=10) == 0
    # The fingerprint is free again: the same labels make a new alert.
    again = await one(store, send(clock, {"alertname": "Old"}))
    assert again.outcome is IngestOutcome.CREATED and again.alert_id != old.alert_id


async def test_purge_takes_at_most_limit_alerts_oldest_first(store, clock):
    ids = []
    for n in range(5):
        ids.append(
            (
                await one(store, send(clock, {"alertname": f"R{n}"}, action=SendAction.RESOLVE))
            ).alert_id
        )
        clock.advance(1)
    assert await store.purge_resolved("acme", clock.now(), limit=2) == 2
    remaining = [i for i in ids if await store.get("acme", i) is not None]
    assert remaining == ids[2:]


# -- data subjects (GDPR) ------------------------------------------------------------------


async def test_text_finds_a_subject_in_labels_annotations_title_or_description(store, clock):
    hits = [
        await one(store, send(clock, {"alertname": "A", "user": "Ann@Example.com"})),
        await one(
            store, send(clock, {"alertname": "B"}, annotations={"who": 'ann@example.com "x"'})
        ),
        await one(store, send(clock, {"alertname": "C"}, title="locked out: ann@example.com")),
        await one(store, send(clock, {"alertname": "D"}, description="by ann@example.com")),
    ]
    await one(store, send(clock, {"alertname": "E", "user": "bob@example.com"}))
    await one(store, send(clock, {"alertname": "F", "user": "ann@example.com"}, tenant="beta"))
    page = await store.query("acme", AlertQuery(text="ann@example.com", limit=100))
    assert sorted(r.id for r in page.items) == sorted(h.alert_id for h in hits)
    quoted = await store.query("acme", AlertQuery(text='"x"', limit=100))
    assert [r.id for r in quoted.items] == [hits[1].alert_id]  # JSON-escaped in storage
    literal = await store.query("acme", AlertQuery(text="a%n", limit=100))
    assert literal.items == []  # % is not a wildcard


async def test_delete_alerts_takes_only_the_tenants_own(store, clock):
    mine = await one(store, send(clock, {"alertname": "Mine"}))
    theirs = await one(store, send(clock, {"alertname": "Theirs"}, tenant="beta"))
    assert await store.delete_alerts("acme", [mine.alert_id, theirs.alert_id, "nope"]) == 1
    assert await store.get("acme", mine.alert_id) is None
    assert await store.history("acme", mine.alert_id) == []
    assert await store.get("beta", theirs.alert_id) is not None


async def test_a_deleted_alert_is_gone_by_fingerprint_and_comes_back_as_new(store, clock):
    old = await one(store, send(clock, {"alertname": "Old"}))
    assert await store.delete_alerts("acme", [old.alert_id]) == 1
    # The next alert may take the deleted row's place (SQLite reuses the largest rowid).
    other = await one(store, send(clock, {"alertname": "Other"}))
    assert await store.get_by_fingerprint("acme", old.fingerprint) is None
    assert (await store.get_by_fingerprint("acme", other.fingerprint)).id == other.alert_id
    back = await one(store, send(clock, {"alertname": "Old"}))
    again = await one(store, send(clock, {"alertname": "Old"}))
    assert back.outcome == IngestOutcome.CREATED and back.alert_id != old.alert_id
    assert (again.alert_id, again.outcome, again.occurrences) == (
        back.alert_id,
        IngestOutcome.DEDUPLICATED,
        2,
    )
    assert len((await store.query("acme", AlertQuery())).items) == 2


async def test_sqlite_repeats_of_alerts_the_cache_let_go_find_their_rows(
    tmp_path, clock, monkeypatch
):
    # Past its limit the cache keeps only the backlog; the other alerts are read again by
    # the rowid the store keeps for each (tenant, fingerprint), and never created twice.
    monkeypatch.setattr("core_alerts.store.sqlite.store._CACHE_LIMIT", 4)
    s = SqliteAlertStore(str(tmp_path / "small-cache.db"), clock=clock)
    await s.open()
    try:
        names = [f"A{i}" for i in range(12)]
        for tenant in ("acme", "beta"):
            created = await s.apply_sends(
                [send(clock, {"alertname": n}, tenant=tenant) for n in names]
            )
            await s.flush()
            assert {r.outcome for r in created} == {IngestOutcome.CREATED}
        assert len(s._cache) <= 12
        clock.advance(5)
        for tenant in ("acme", "beta"):
            repeats = await s.apply_sends(
                [send(clock, {"alertname": n}, tenant=tenant) for n in names]
            )
            assert {(r.outcome, r.occurrences) for r in repeats} == {
                (IngestOutcome.DEDUPLICATED, 2)
            }
        for tenant in ("acme", "beta"):
            assert len((await s.query(tenant, AlertQuery())).items) == 12
    finally:
        await s.close()
    with contextlib.closing(sqlite3.connect(str(tmp_path / "small-cache.db"))) as conn:
        per_key = "SELECT count(*) FROM alerts GROUP BY tenant_id, fingerprint HAVING count(*) > 1"
        assert conn.execute(per_key).fetchall() == []


async def test_update_annotations_replaces_them_in_the_tenant_only(store, clock):
    res = await one(store, send(clock, {"alertname": "U"}, annotations={"a": "1", "b": "2"}))
    assert await store.update_annotations("acme", res.alert_id, {"a": "enc:v1:t2:xyz"})
    assert (await store.get("acme", res.alert_id)).annotations == {"a": "enc:v1:t2:xyz"}
    assert not await store.update_annotations("beta", res.alert_id, {"a": "x"})
    assert not await store.update_annotations("acme", "nope", {"a": "x"})
    again = await one(store, send(clock, {"alertname": "U"}, annotations={"a": "enc:v1:t2:xyz"}))
    assert again.occurrences == 2  # later sends still merge into it


async def test_postgres_row_level_security_hides_other_tenants_rows(pg_store, pg_dsn, clock):
    """The second wall (PostgreSQL only): as the service role, a query without any tenant
    filter still sees only the rows of the transaction's tenant."""
    store, target_where = pg_store, pg_dsn
    await one(store, send(clock, {"alertname": "A"}, tenant="acme"))
    await one(store, send(clock, {"alertname": "B"}, tenant="beta"))
    conn = await asyncpg.connect(target_where)
    try:

        async def visible(tenant: str | None) -> list[str]:
            async with conn.transaction():
                await conn.execute("SET LOCAL ROLE core_alerts_app")
                if tenant is not None:
                    await conn.execute("SELECT set_config('core_alerts.tenant', $1, true)", tenant)
                rows = await conn.fetch("SELECT tenant_id FROM alerts ORDER BY tenant_id")
                return [r[0] for r in rows]

        assert await visible("acme") == ["acme"]
        assert await visible("beta") == ["beta"]
        assert await visible(None) == []  # no tenant named: nothing
        assert await visible("*") == ["acme", "beta"]
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE core_alerts_app")
            await conn.execute("SELECT set_config('core_alerts.tenant', 'acme', true)")
            deleted = await conn.execute("DELETE FROM alerts WHERE tenant_id = 'beta'")
        assert deleted == "DELETE 0"  # not even a write reaches another tenant
    finally:
        await conn.close()
    assert (await store.query("beta", AlertQuery(limit=10))).items


async def _note_writers(conn: Any) -> None:
    """A trigger that notes, in table `seen`, who inserts each alert under which tenant."""
    await conn.execute(
        "CREATE TABLE seen (who text, tenant text); GRANT INSERT ON seen TO PUBLIC; "
        "CREATE FUNCTION note_writer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO seen VALUES (current_user, current_setting('core_alerts.tenant', true)); "
        "RETURN NEW; END $$; CREATE TRIGGER note_writer BEFORE INSERT ON alerts "
        "FOR EACH ROW EXECUTE FUNCTION note_writer()"
    )


async def test_postgres_group_commits_write_as_the_service_role(fresh_pg_dsn, clock):
    # The group commit opens its transaction and takes the role in one statement; a
    # trigger notes who inserts, under which tenant setting.
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    conn = await asyncpg.connect(fresh_pg_dsn)
    try:
        await _note_writers(conn)
        await one(store, send(clock))
        assert [tuple(r) for r in await conn.fetch("SELECT who, tenant FROM seen")] == [
            ("core_alerts_app", "*")
        ]
    finally:
        await conn.close()
        await store.close()


async def test_postgres_large_groups_copy_their_new_alerts_as_the_service_role(
    fresh_pg_dsn, clock, monkeypatch
):
    # From _STAGE_FROM new alerts on, a group COPYs them into a temporary table first; they
    # must come out as the unnest path stores them, written as the service role, and the
    # table must be empty for the next group (also after a group that failed).
    copies: list[int] = []
    copy = asyncpg.Connection.copy_records_to_table

    async def counted(self: Any, table: str, *, records: list[Any], **kw: Any) -> Any:
        copies.append(len(records))
        return await copy(self, table, records=records, **kw)

    monkeypatch.setattr(asyncpg.Connection, "copy_records_to_table", counted)
    n = pg_store_module._STAGE_FROM
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    conn = await asyncpg.connect(fresh_pg_dsn)
    try:
        await _note_writers(conn)

        def batch(first: int, count: int) -> list[NormalizedAlert]:
            return [
                send(clock, {"alertname": f"Big{i}", "zone": "é"}, annotations={"n": str(i)},
                     ends_at=clock.now() + i if i % 2 else None)
                for i in range(first, first + count)
            ]  # fmt: skip

        small = await store.apply_sends(batch(0, 5))  # unnest: the reference
        large = await store.apply_sends(batch(5, n))
        assert copies == [n]
        assert {r.outcome for r in large} == {IngestOutcome.CREATED}
        for result, sent in zip(small + large, batch(0, 5 + n), strict=True):
            rec = await store.get("acme", result.alert_id)
            assert (rec.fingerprint, rec.labels, rec.annotations, rec.ends_at, rec.starts_at) == (
                sent.fingerprint, sent.labels, sent.annotations, sent.ends_at, sent.starts_at
            )  # fmt: skip
        assert {tuple(r) for r in await conn.fetch("SELECT DISTINCT * FROM seen")} == {
            ("core_alerts_app", "*")
        }
        # A group that fails after its COPY leaves nothing staged behind.
        with pytest.raises(ConflictError):
            await store.apply_sends([*batch(5000, n - 1), send(clock, {"a": "1"}, alert_id="x"),
                                     send(clock, {"a": "2"}, alert_id="x")])  # fmt: skip
        assert copies == [n, n + 1]
        again = await store.apply_sends(batch(5, n))  # repeats only: nothing to copy
        assert await store.delete_alerts("acme", [large[0].alert_id]) == 1
        more = await store.apply_sends(batch(9000, n))  # must not bring back the deleted one
        assert copies == [n, n + 1, n]
        assert {r.outcome for r in again} == {IngestOutcome.DEDUPLICATED}
        assert {r.outcome for r in more} == {IngestOutcome.CREATED}
        assert await conn.fetchval("SELECT count(*) FROM alerts") == 2 * n + 4
        assert await store.get("acme", large[0].alert_id) is None
    finally:
        await conn.close()
        await store.close()


async def test_postgres_large_groups_without_a_staging_table_are_written_all_the_same(
    fresh_pg_dsn, clock, monkeypatch
):
    # A login that cannot create the staging table (here: its statement fails), or a
    # session that lost it, must not cost a single alert: large groups go without COPY.
    monkeypatch.setattr(
        pg_store_module, "CREATE_STAGED_ALERTS", "CREATE TEMP TABLE staged_alerts (LIKE nowhere)"
    )
    n = pg_store_module._STAGE_FROM
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    try:
        created = await store.apply_sends(
            [send(clock, {"alertname": f"NoStage{i}"}) for i in range(n)]
        )
        assert {r.outcome for r in created} == {IngestOutcome.CREATED}
        assert len((await store.query("acme", AlertQuery(limit=1000))).items) == n
    finally:
        await store.close()


async def test_postgres_a_session_that_lost_its_staging_table_redoes_the_group(fresh_pg_dsn, clock):
    n = pg_store_module._STAGE_FROM
    store = PostgresAlertStore(fresh_pg_dsn, clock=clock, pool_size=1)
    await store.open()
    try:
        async with store._conn("test") as conn:
            await conn.execute("DROP TABLE staged_alerts")
        created = await store.apply_sends(
            [send(clock, {"alertname": f"Lost{i}"}) for i in range(n)]
        )
        assert {r.outcome for r in created} == {IngestOutcome.CREATED}
        more = await store.apply_sends([send(clock, {"alertname": f"More{i}"}) for i in range(n)])
        assert {r.outcome for r in more} == {IngestOutcome.CREATED}
        assert len((await store.query("acme", AlertQuery(limit=5000))).items) == 2 * n
    finally:
        await store.close()


async def test_postgres_row_level_security_guards_the_audit_chains(pg_dsn, clock):
    from core_alerts.domain.audit import AuditDraft
    from core_alerts.store.postgres import PostgresAuditLog

    log = PostgresAuditLog(pg_dsn, key=b"k" * 32, clock=clock)
    await log.open()
    try:
        for tenant in ("acme", "beta"):
            await log.append(tenant, [AuditDraft(actor="ann", action="alert.ack")])
        assert [e.tenant_id for e in (await log.list("beta")).entries] == ["beta"]
    finally:
        await log.close()
    conn = await asyncpg.connect(pg_dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE core_alerts_app")
            await conn.execute("SELECT set_config('core_alerts.tenant', 'acme', true)")
            seen = await conn.fetch("SELECT DISTINCT tenant_id FROM audit_entries")
            heads = await conn.fetch("SELECT tenant_id FROM audit_heads")
        assert [r[0] for r in seen] == ["acme"] and [r[0] for r in heads] == ["acme"]
    finally:
        await conn.close()


async def test_get_many_returns_known_ids_of_the_tenant_only(store, clock):
    a = await one(store, send(clock, {"alertname": "A"}))
    b = await one(store, send(clock, {"alertname": "B"}))
    other = await one(store, send(clock, {"alertname": "A"}, tenant="other"))
    found = await store.get_many(
        "acme", [a.alert_id, b.alert_id, other.alert_id, "nope", a.alert_id]
    )
    assert sorted(r.id for r in found) == sorted([a.alert_id, b.alert_id])
    assert await store.get_many("acme", []) == []
