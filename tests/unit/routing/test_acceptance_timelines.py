"""Alertmanager's acceptance timelines (TestRepeat, TestBatching, TestResolved,
TestResolvedFilter, TestMergeAlerts) replayed through the dispatcher, plus a restart.

The clock steps 50 ms at a time; at each step the pushes of that moment are observed and due
groups flushed. The on_flush harness does what the notification hub does: per integration it
asks `needs_notify` against an in-memory notification log and records what would be sent.
Times below are seconds from the start; Alertmanager's tests accept each call in a window
(e.g. [2, 2.5]) because their timers run on wall time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import pytest

from core_alerts.domain.clock import FixedClock
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.notification import GroupFlush
from core_alerts.notify.dedup import needs_notify
from core_alerts.routing import Dispatcher, RoutingTree, load_config
from core_alerts.store.sqlite import SqliteNotifyStore

T0 = 1_800_000_000.0
STEP_MS = 50
WEBHOOK = {"default": [("webhook[0]", True)]}

Sent = tuple[float, str, tuple[str, ...], tuple[str, ...]]
"""(seconds from start, receiver/integration, firing alert ids, resolved alert ids)."""


class Hub:
    """The notification hub's decision per integration, with an in-memory notification log."""

    def __init__(self, clock: FixedClock, integrations: Mapping[str, list[tuple[str, bool]]]):
        self.clock = clock
        self.integrations = integrations
        self.log: dict[tuple[str, str, str], tuple[set[str], set[str], float]] = {}
        self.sent: list[Sent] = []
        self.flushed_at: list[float] = []

    async def __call__(self, flush: GroupFlush) -> None:
        now = self.clock.now()
        self.flushed_at.append(round(now - T0, 3))
        firing = {m.alert_id for m in flush.members if not m.resolved}
        resolved = {m.alert_id for m in flush.members if m.resolved}
        for name, send_resolved in self.integrations[flush.receiver]:
            key = (flush.group_key, flush.receiver, name)
            previous = self.log.get(key)
            if not needs_notify(
                previous_firing=None if previous is None else previous[0],
                previous_resolved=set() if previous is None else previous[1],
                previous_at=0.0 if previous is None else previous[2],
                firing=firing,
                resolved=resolved,
                send_resolved=send_resolved,
                repeat_interval=flush.repeat_interval,
                now=now,
            ):
                continue
            self.log[key] = (firing, resolved, now)
            shown = resolved if send_resolved else set()
            if firing or shown:  # all resolved to a send_resolved: false hook: logged only
                self.sent.append(
                    (round(now - T0, 3), f"{flush.receiver}/{name}", _ids(firing), _ids(shown))
                )

    def owed(self) -> set[tuple[str, str, str]]:
        """(group_key, receiver, alert_id) of alerts firing in a log entry: resolves owed."""
        return {(gk, rcv, a) for (gk, rcv, _), (firing, _, _) in self.log.items() for a in firing}


def _ids(ids: set[str]) -> tuple[str, ...]:
    return tuple(sorted(ids))


def push(alert_id: str, at: float, status: str = "firing", starts_at: float | None = None,
         **labels: str) -> AlertChanged:  # fmt: skip
    return AlertChanged(
        tenant_id="acme",
        alert_id=alert_id,
        fingerprint=f"fp-{alert_id}",
        outcome="merged",
        status=status,
        severity="high",
        occurrences=1,
        at=T0 + at,
        labels={"alertname": "test", **labels},
        starts_at=T0 + (at if starts_at is None else starts_at),
    )


def start(clock: FixedClock, hub: Hub, config: str, timers: SqliteNotifyStore | None = None
          ) -> Dispatcher:  # fmt: skip
    loaded = load_config(config)
    d = Dispatcher(clock=clock, on_flush=hub, timers=timers)
    d.set_tree("acme", RoutingTree.from_config(loaded), {})
    return d


async def play(d: Dispatcher, clock: FixedClock, pushes: Sequence[AlertChanged],
               start_s: float, end_s: float) -> None:  # fmt: skip
    """Step the clock from start_s to end_s; observe each push at its time, then run_due."""
    by_ms: dict[int, list[AlertChanged]] = {}
    for event in pushes:
        by_ms.setdefault(round((event.at - T0) * 1000), []).append(event)
    for ms in range(round(start_s * 1000), round(end_s * 1000) + 1, STEP_MS):
        clock.set(T0 + ms / 1000)
        if ms in by_ms:
            await d.observe(by_ms.pop(ms))
        await d.run_due()
    assert by_ms == {}, "a push fell between clock steps"


def config(timers: str, *, group_by: str = "[]", hooks: str = "[{url: 'http://x'}]") -> str:
    return f"""
global: {{resolve_timeout: 10s}}
route: {{receiver: default, group_by: {group_by}, {timers}}}
receivers: [{{name: default, webhook_configs: {hooks}}}]
"""


async def test_repeat(clock: FixedClock) -> None:
    hub = Hub(clock, WEBHOOK)
    d = start(clock, hub, config("group_wait: 1s, group_interval: 1s, repeat_interval: 1ms"))
    pushes = [push("test", 1), push("test", 3.5, "resolved", starts_at=1)]
    await play(d, clock, pushes, 0, 8)
    assert hub.sent == [  # Alertmanager: [2,2.5] firing, [3,3.5] firing, [4,4.5] resolved
        (2.0, "default/webhook[0]", ("test",), ()),
        (3.0, "default/webhook[0]", ("test",), ()),
        (4.0, "default/webhook[0]", (), ("test",)),
    ]
    assert d.groups("acme") == []


async def test_batching(clock: FixedClock) -> None:
    hub = Hub(clock, WEBHOOK)
    d = start(clock, hub, config("group_wait: 1s, group_interval: 1s, repeat_interval: 4900ms"))
    pushes = [push("test1", 1.1), push("test5", 1.7), *(push(f"test{i}", 3.3) for i in (2, 3, 4))]
    await play(d, clock, pushes, 0, 10)
    five = ("test1", "test2", "test3", "test4", "test5")
    assert hub.sent == [  # Alertmanager: [2,2.5], [4.1,4.5], then nothing until [9.1,9.5]
        (2.1, "default/webhook[0]", ("test1", "test5"), ()),
        (4.1, "default/webhook[0]", five, ()),
        (9.1, "default/webhook[0]", five, ()),
    ]


async def test_resolved_by_resolve_timeout(clock: FixedClock) -> None:
    hub = Hub(clock, WEBHOOK)
    d = start(clock, hub, config("group_wait: 1s, group_interval: 5s", group_by="[alertname]"))
    alerts = ("v1", "v2", "v3")
    # No endsAt: the state manager resolves them resolve_timeout (10 s) after the push.
    pushes = [push(a, 1, lbl=a) for a in alerts] + [push(a, 11, "resolved", 1) for a in alerts]
    await play(d, clock, pushes, 0, 20)
    assert hub.sent == [  # Alertmanager: [2,2.5] three firing, [12,13] three resolved
        (2.0, "default/webhook[0]", alerts, ()),
        (12.0, "default/webhook[0]", (), alerts),
    ]


async def test_resolved_filter(clock: FixedClock) -> None:
    hooks = "[{url: 'http://a', send_resolved: true}, {url: 'http://b', send_resolved: false}]"
    hub = Hub(clock, {"default": [("webhook[0]", True), ("webhook[1]", False)]})
    d = start(clock, hub, config("group_wait: 1s, group_interval: 5s", hooks=hooks))
    pushes = [
        push("v1", 1), push("v2", 1),
        push("v1", 3, starts_at=1), push("v3", 3),  # v1 now ends at 4
        push("v1", 4, "resolved", starts_at=1),
        push("v3", 8, starts_at=3),  # a refresh: v3 resolves at 18, v2 at 11
        push("v2", 11, "resolved", starts_at=1),
    ]  # fmt: skip
    await play(d, clock, pushes, 0, 16)
    assert hub.sent == [
        (2.0, "default/webhook[0]", ("v1", "v2"), ()),
        (2.0, "default/webhook[1]", ("v1", "v2"), ()),
        (7.0, "default/webhook[0]", ("v2", "v3"), ("v1",)),
        (7.0, "default/webhook[1]", ("v2", "v3"), ()),
        (12.0, "default/webhook[0]", ("v3",), ("v2",)),  # nothing new for the second hook
    ]


async def test_merged_alerts_are_one_member(clock: FixedClock) -> None:
    hub = Hub(clock, WEBHOOK)
    d = start(clock, hub, config("group_wait: 1s, group_interval: 1s, repeat_interval: 1ms"))
    # The state manager merges re-posts: the earliest startsAt stays; one alert id throughout.
    pushes = [
        push("test", 1, starts_at=1.1), push("test", 1.2, starts_at=1),
        push("test", 2.1, starts_at=1), push("test", 3.6, starts_at=1),
        push("test", 4.6, "resolved", starts_at=1), push("test", 4.8, "resolved", starts_at=1),
        push("test", 5.3),  # fires again after its resolve was sent: no merge
    ]  # fmt: skip
    await play(d, clock, pushes, 0, 7)
    assert hub.sent == [  # Alertmanager: [2], [3], [4] firing, [5] resolved, [6,6.5] firing
        (2.0, "default/webhook[0]", ("test",), ()),
        (3.0, "default/webhook[0]", ("test",), ()),
        (4.0, "default/webhook[0]", ("test",), ()),
        (5.0, "default/webhook[0]", (), ("test",)),
        (6.3, "default/webhook[0]", ("test",), ()),  # a new group: group_wait from 5.3
    ]


@pytest.fixture
async def timers(tmp_path: Path, clock: FixedClock) -> AsyncIterator[SqliteNotifyStore]:
    store = SqliteNotifyStore(str(tmp_path / "notify.db"), clock=clock)
    await store.open()
    yield store
    await store.close()


async def test_restart_keeps_timers_and_delivers_owed_resolves(
    clock: FixedClock, timers: SqliteNotifyStore
) -> None:
    cfg = config("group_wait: 1s, group_interval: 5s, repeat_interval: 20s", group_by="[alertname]")
    hub = Hub(clock, WEBHOOK)
    first = start(clock, hub, cfg, timers)
    a, z = push("a", 1, alertname="X"), push("z", 1, alertname="Y")
    await play(first, clock, [a, z, push("z", 3, "resolved", 1, alertname="Y")], 0, 4)
    assert [s[0] for s in hub.sent] == [2.0, 2.0]
    del first  # the process stops at 4 s; the log and the timers survive

    second = start(clock, hub, cfg, timers)
    current = [a, push("z", 3, "resolved", 1, alertname="Y"),
               push("w", 3, "resolved", 1, alertname="W")]  # fmt: skip
    await second.restore(current, hub.owed())
    hub.flushed_at.clear()
    await play(second, clock, [], 4, 30)
    assert hub.flushed_at[0] == 7.0  # the stored tick: no new group_wait, no early flush
    assert hub.sent[2:] == [
        (7.0, "default/webhook[0]", (), ("z",)),  # the resolve owed since the restart
        (27.0, "default/webhook[0]", ("a",), ()),  # repeat_interval 20 s, on a 5 s tick
    ]
    assert {g.group_key for g in second.groups("acme")} == {'{}:{alertname="X"}'}
    assert [g.group_key for g in await timers.load_groups()] == ['{}:{alertname="X"}']
