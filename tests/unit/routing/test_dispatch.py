"""The dispatcher: group keys, group_wait and group_interval timers, the old-alert shortcut,
resolved members, time muting, re-routing, durable timers and restore."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core_alerts.domain.clock import FixedClock
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.notification import GroupFlush
from core_alerts.routing import Dispatcher, RoutingTree, group_key, load_config
from core_alerts.store.notify import GroupState
from core_alerts.store.sqlite import SqliteNotifyStore

T0 = 1_800_000_000.0  # the conftest clock's start
TENANT = "acme"

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
  - matchers: ['team="db"']
    receiver: db
    group_by: [team, env]
    continue: true
  - matchers: ['team=~"db|web"']
    receiver: ops
receivers: [{name: default}, {name: db}, {name: ops}]
"""


def changed(alert_id: str, status: str = "firing", *, tenant: str = TENANT,
            starts_at: float | None = None, **labels: str) -> AlertChanged:  # fmt: skip
    return AlertChanged(
        tenant_id=tenant,
        alert_id=alert_id,
        fingerprint=f"fp-{alert_id}",
        outcome="created",
        status=status,
        severity="high",
        occurrences=1,
        at=T0,
        labels={"alertname": "A", **labels},
        starts_at=starts_at,
    )


class Flushes:
    """on_flush that records; `failures` makes the next calls raise."""

    def __init__(self) -> None:
        self.seen: list[GroupFlush] = []
        self.failures = 0

    async def __call__(self, flush: GroupFlush) -> None:
        self.seen.append(flush)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("receiver down")

    def members(self, index: int = -1) -> list[tuple[str, bool]]:
        return [(m.alert_id, m.resolved) for m in self.seen[index].members]


class CountingTimers:
    """The real SQLite NotifyStore, counting the timer calls made to it."""

    def __init__(self, store: SqliteNotifyStore) -> None:
        self.store = store
        self.calls: list[tuple[str, int]] = []
        self.fail_next = False

    async def save_groups(self, groups: Sequence[GroupState]) -> None:
        self.calls.append(("save", len(groups)))
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        await self.store.save_groups(groups)

    async def delete_groups(self, tenant_id: str, keys: Sequence[tuple[str, str]]) -> None:
        self.calls.append(("delete", len(keys)))
        await self.store.delete_groups(tenant_id, keys)

    async def load_groups(self) -> list[GroupState]:
        return await self.store.load_groups()

    async def stored(self) -> dict[tuple[str, str], GroupState]:
        return {(g.group_key, g.receiver): g for g in await self.store.load_groups()}


@pytest.fixture
async def timers(tmp_path: Path, clock: FixedClock) -> AsyncIterator[CountingTimers]:
    store = SqliteNotifyStore(str(tmp_path / "notify.db"), clock=clock)
    await store.open()
    yield CountingTimers(store)
    await store.close()


def dispatcher(clock: FixedClock, flushes: Flushes, timers: CountingTimers | None = None,
               config: str = CONFIG, tenant: str = TENANT) -> Dispatcher:  # fmt: skip
    d = Dispatcher(clock=clock, on_flush=flushes, timers=timers)
    install(d, config, tenant)
    return d


def install(d: Dispatcher, config: str, tenant: str = TENANT) -> None:
    loaded = load_config(config)
    d.set_tree(tenant, RoutingTree.from_config(loaded), {t.name: t for t in loaded.time_intervals})


async def at(clock: FixedClock, d: Dispatcher, offset: float) -> int:
    clock.set(T0 + offset)
    return await d.run_due()


def test_group_key_is_route_key_and_go_quoted_label_set() -> None:
    assert group_key("{}", {}) == "{}:{}"
    labels = {"env": "prod", "a": 'x"y\\z\n\x01\x7f\u00a0é🔥'}
    assert group_key('{}/{team="db"}', labels) == (
        '{}/{team="db"}:{a="x\\"y\\\\z\\n\\x01\\x7f\\u00a0é🔥", env="prod"}'
    )


async def test_group_wait_then_a_recurring_group_interval(clock: FixedClock) -> None:
    flushes = Flushes()
    d = dispatcher(clock, flushes)
    await d.observe([changed("a")])
    assert d.next_due() == T0 + 30
    assert await at(clock, d, 29.9) == 0
    assert await at(clock, d, 30) == 1
    assert flushes.members() == [("a", False)]
    assert flushes.seen[0].group_key == '{}:{alertname="A"}'
    assert (flushes.seen[0].receiver, flushes.seen[0].repeat_interval) == ("default", 3600)
    await at(clock, d, 100)
    await d.observe([changed("b")])  # a new alert does not reset the tick
    assert d.next_due() == T0 + 330
    assert await at(clock, d, 329) == 0
    assert await at(clock, d, 330) == 1
    assert flushes.members() == [("a", False), ("b", False)]


async def test_an_old_alert_flushes_at_once_until_the_first_flush(clock: FixedClock) -> None:
    flushes = Flushes()
    d = dispatcher(clock, flushes)
    await d.observe([changed("old", alertname="X", starts_at=T0 - 3600)])
    assert d.next_due() == T0
    await d.observe([changed("new", alertname="Y", starts_at=T0)])
    assert d.next_due() == T0  # X is due now, Y at T0 + 30
    clock.set(T0 + 10)
    await d.observe([changed("late", alertname="Y", starts_at=T0 - 15)])  # -15 + 30 > 10
    assert sorted(g.next_flush_at - T0 for g in d.groups(TENANT)) == [0, 30]
    clock.set(T0 + 20)
    await d.observe([changed("older", alertname="Y", starts_at=T0 - 60)])
    assert sorted(g.next_flush_at - T0 for g in d.groups(TENANT)) == [0, 20]
    assert await d.run_due() == 2
    await d.observe([changed("ancient", alertname="Y", starts_at=T0 - 9999)])
    assert {g.next_flush_at - T0 for g in d.groups(TENANT)} == {300, 320}  # flushed: no shortcut


async def test_routes_and_group_labels_make_groups(clock: FixedClock) -> None:
    d = dispatcher(clock, Flushes())
    await d.observe([
        changed("1", team="db", env="prod"), changed("2", team="db", env="dev"),
        changed("3", team="db", env="prod"), changed("4", team="web"), changed("5"),
    ])  # fmt: skip
    groups = {(g.group_key, g.receiver): [m.alert_id for m in g.members] for g in d.groups(TENANT)}
    assert groups == {
        ('{}/{team="db"}:{env="dev", team="db"}', "db"): ["2"],
        ('{}/{team="db"}:{env="prod", team="db"}', "db"): ["1", "3"],
        ('{}/{team=~"db|web"}:{alertname="A"}', "ops"): ["1", "2", "3", "4"],
        ('{}:{alertname="A"}', "default"): ["5"],
    }
    [view] = [g for g in d.groups(TENANT) if g.receiver == "default"]
    assert (view.route_key, dict(view.labels), view.flushed) == ("{}", {"alertname": "A"}, False)


async def test_resolved_members_go_after_a_flush_and_empty_groups_go(clock: FixedClock) -> None:
    flushes = Flushes()
    d = dispatcher(clock, flushes)
    await d.observe([changed("a"), changed("b")])
    await at(clock, d, 30)
    await d.observe([changed("b", "resolved")])
    await at(clock, d, 330)
    assert flushes.members() == [("a", False), ("b", True)]
    assert [m.alert_id for g in d.groups(TENANT) for m in g.members] == ["a"]
    await d.observe([changed("a", "resolved")])
    assert await at(clock, d, 630) == 1
    assert d.groups(TENANT) == []
    assert d.next_due() is None
    await d.observe([changed("a")])  # a new group: group_wait again
    assert d.next_due() == T0 + 660


async def test_a_failed_flush_keeps_the_resolved_for_the_next_tick(clock: FixedClock) -> None:
    flushes = Flushes()
    d = dispatcher(clock, flushes)
    await d.observe([changed("a", "resolved")])
    flushes.failures = 1
    assert await at(clock, d, 30) == 1
    assert d.next_due() == T0 + 330
    assert await at(clock, d, 330) == 1
    assert flushes.members(0) == flushes.members(1) == [("a", True)]
    assert d.groups(TENANT) == []


async def test_an_alert_that_fires_again_during_its_flush_stays(clock: FixedClock) -> None:
    d: Dispatcher

    async def refire(flush: GroupFlush) -> None:
        await d.observe([changed("a")])

    d = Dispatcher(clock=clock, on_flush=refire)
    install(d, CONFIG)
    await d.observe([changed("a", "resolved")])
    await at(clock, d, 30)
    assert [(m.alert_id, m.resolved) for g in d.groups(TENANT) for m in g.members] == [("a", False)]


async def test_a_new_config_during_a_flush(clock: FixedClock) -> None:
    flushes = Flushes()
    d: Dispatcher

    async def reload(flush: GroupFlush) -> None:
        await flushes(flush)
        install(d, CONFIG)  # same keys: the group in flight is taken over, not dropped

    d = Dispatcher(clock=clock, on_flush=reload)
    install(d, CONFIG)
    await d.observe([changed("a", "resolved")])
    assert await at(clock, d, 30) == 1
    assert d.groups(TENANT) == []
    await d.observe([changed("a")])  # a fresh group, not the emptied one
    assert await at(clock, d, 60) == 1
    assert flushes.members() == [("a", False)]


MUTING = """
route:
  receiver: r
  group_wait: 10s
  group_interval: 1m
  routes:
  - {matchers: ['kind="muted"'], mute_time_intervals: [weekend]}
  - {matchers: ['kind="office"'], active_time_intervals: [office, weekend]}
receivers: [{name: r}]
time_intervals:
- name: weekend
  time_intervals: [{weekdays: [saturday, sunday]}]
- name: office
  time_intervals: [{weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}]}]
"""


async def test_time_intervals_mute_flushes_but_resolved_still_go(clock: FixedClock) -> None:
    flushes = Flushes()
    d = dispatcher(clock, flushes, config=MUTING)
    saturday = datetime(2027, 1, 16, 12, tzinfo=UTC).timestamp()
    clock.set(saturday)
    await d.observe([changed("m", kind="muted"), changed("r", "resolved", kind="muted")])
    await d.observe([changed("o", kind="office")])
    clock.set(saturday + 10)
    assert await d.run_due() == 1  # office is active on the weekend too
    assert flushes.members() == [("o", False)]
    views = {g.route_key: [m.alert_id for m in g.members] for g in d.groups(TENANT)}
    assert views['{}/{kind="muted"}'] == ["m"]  # the resolved one went without a flush
    monday_night = datetime(2027, 1, 18, 20, tzinfo=UTC).timestamp()
    clock.set(monday_night)
    assert await d.run_due() == 1
    assert flushes.members() == [("m", False)]  # not muted on Monday; office inactive
    clock.set(datetime(2027, 1, 19, 9, 30, tzinfo=UTC).timestamp())
    assert await d.run_due() == 2


async def test_a_late_tick_rearms_at_the_next_future_tick(clock: FixedClock) -> None:
    d = dispatcher(clock, Flushes())
    await d.observe([changed("a")])
    await at(clock, d, 30)
    assert await at(clock, d, 30 + 1000) == 1  # one flush, not three catch-up ones
    assert d.next_due() == T0 + 30 + 1200


async def test_timers_are_written_once_per_call(clock: FixedClock, timers: CountingTimers) -> None:
    d = dispatcher(clock, Flushes(), timers)
    await d.observe([changed("a"), changed("b", team="db", env="x"), changed("c")])
    assert timers.calls == [("save", 3)]  # default, db and ops groups
    stored = await timers.stored()
    assert {g.next_flush_at - T0 for g in stored.values()} == {30}
    assert not any(g.flushed for g in stored.values())
    await d.observe([changed("b", "resolved", team="db", env="x")])
    assert timers.calls == [("save", 3)]  # no timer changed
    timers.calls.clear()
    assert await at(clock, d, 30) == 3
    assert timers.calls == [("delete", 2), ("save", 1)]  # db and ops emptied; default re-armed
    [state] = (await timers.stored()).values()
    assert (state.group_key, state.next_flush_at, state.flushed) == ('{}:{alertname="A"}',
                                                                     T0 + 330, True)  # fmt: skip


async def test_a_failed_timer_write_is_retried(clock: FixedClock, timers: CountingTimers) -> None:
    d = dispatcher(clock, Flushes(), timers)
    timers.fail_next = True
    await d.observe([changed("a")])
    assert await timers.stored() == {}
    await d.observe([])
    assert [g.next_flush_at for g in (await timers.stored()).values()] == [T0 + 30]


async def test_write_behind_coalesces_timer_writes_and_flushes_them_on_demand(
    clock: FixedClock, timers: CountingTimers
) -> None:
    d = Dispatcher(clock=clock, on_flush=Flushes(), timers=timers, write_behind=True)
    install(d, CONFIG)
    gate = asyncio.Event()
    slow_save = timers.save_groups

    async def held_save(groups: Sequence[GroupState]) -> None:
        await gate.wait()
        await slow_save(groups)

    timers.save_groups = held_save  # type: ignore[method-assign]
    await d.observe([changed("a")])  # returns at once: the write waits behind
    await asyncio.sleep(0)  # the writer starts, and is held
    await d.observe([changed("b", team="db", env="x")])
    await d.observe([changed("c")])
    assert await timers.stored() == {}
    gate.set()
    await d.flush_timers()
    assert len(await timers.stored()) == 3
    assert timers.calls == [("save", 1), ("save", 2)]  # the later two went together


async def test_new_config_keeps_timers_of_groups_that_keep_their_key(
    clock: FixedClock, timers: CountingTimers
) -> None:
    flushes = Flushes()
    d = dispatcher(clock, flushes, timers)
    await d.observe([changed("a"), changed("b", team="db", env="x")])
    await at(clock, d, 30)
    clock.set(T0 + 40)
    install(d, CONFIG.replace("group_by: [team, env]", "group_by: [team]"))
    await d.observe([])
    due = {(g.receiver, g.group_key): g.next_flush_at - T0 for g in d.groups(TENANT)}
    assert due == {
        ("default", '{}:{alertname="A"}'): 330,  # same key: timer kept
        ("db", '{}/{team="db"}:{team="db"}'): 70,  # new key: group_wait from now
        ("ops", '{}/{team=~"db|web"}:{alertname="A"}'): 330,
    }
    assert set(await timers.stored()) == {(k, r) for r, k in due}
    assert sorted(f.receiver for f in flushes.seen) == ["db", "default", "ops"]


async def test_alerts_follow_their_labels_and_tenants_stay_apart(clock: FixedClock) -> None:
    flushes = Flushes()
    d = dispatcher(clock, flushes)
    await d.observe([changed("a", tenant="nobody"), changed("a")])
    await d.observe([changed("a", alertname="B")])
    assert [(g.group_key, len(g.members)) for g in d.groups(TENANT)] == [('{}:{alertname="B"}', 1)]
    assert d.groups("nobody") == []
    assert await at(clock, d, 30) == 1  # the emptied group goes without a flush
    assert flushes.seen[0].group_labels == {"alertname": "B"}


async def test_restore_keeps_stored_timers_and_owed_resolves_only(
    clock: FixedClock, timers: CountingTimers
) -> None:
    first = dispatcher(clock, Flushes(), timers)
    await first.observe([changed("a"), changed("r", alertname="R"), changed("g", alertname="G")])
    await at(clock, first, 30)
    await first.observe([changed("late", alertname="L")])  # due at 60, never flushed
    clock.set(T0 + 100)
    flushes = Flushes()
    second = dispatcher(clock, flushes, timers)
    alerts = [changed("a"), changed("r", "resolved", alertname="R"),
              changed("g", "resolved", alertname="G"), changed("late", alertname="L"),
              changed("n", alertname="N")]  # fmt: skip
    owed = {('{}:{alertname="R"}', "default", "r")}
    await second.restore(alerts, owed)
    due = {g.group_key: (g.next_flush_at - T0, g.flushed) for g in second.groups(TENANT)}
    assert due == {
        '{}:{alertname="A"}': (330, True),
        '{}:{alertname="R"}': (330, True),
        '{}:{alertname="L"}': (60, False),  # overdue: flushes at the first tick
        '{}:{alertname="N"}': (130, False),
    }
    assert set(await timers.stored()) == {(k, "default") for k in due}  # G is gone
    assert await second.run_due() == 1
    assert flushes.members() == [("late", False)]


async def test_run_wakes_for_an_earlier_due_time_and_stops(clock: FixedClock) -> None:
    flushed = asyncio.Event()

    async def on_flush(flush: GroupFlush) -> None:
        flushed.set()

    d = Dispatcher(clock=clock, on_flush=on_flush)
    install(d, CONFIG)
    stop = asyncio.Event()
    loop = asyncio.create_task(d.run(stop))
    await asyncio.sleep(0)  # let it go to sleep with nothing due
    await d.observe([changed("old", starts_at=T0 - 3600)])
    await asyncio.wait_for(flushed.wait(), timeout=10)  # a hang guard, not a timing check
    stop.set()
    await asyncio.wait_for(loop, timeout=10)
    assert d.next_due() == T0 + 300


async def test_a_hundred_thousand_members(clock: FixedClock) -> None:
    seen: list[int] = []

    async def count(flush: GroupFlush) -> None:
        seen.append(len(flush.members))

    d = Dispatcher(clock=clock, on_flush=count)
    install(d, "route: {receiver: r, group_by: [shard]}\nreceivers: [{name: r}]")
    await d.observe([changed(f"a{i}", shard=str(i % 1000)) for i in range(100_000)])
    assert len(d.groups(TENANT)) == 1000
    assert await at(clock, d, 30) == 1000
    assert sum(seen) == 100_000 and set(seen) == {100}
    assert await at(clock, d, 31) == 0
