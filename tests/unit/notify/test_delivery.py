"""DeliveryWorker: retries with backoff, Retry-After, dead letters, rate limits, lanes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core_alerts.domain.clock import FixedClock
from core_alerts.domain.notification import Notification, NotifiedAlert
from core_alerts.notify import DeliveryFailed, DeliveryPolicy, DeliveryWorker, Integration
from core_alerts.store import LocalBuckets
from core_alerts.store.sqlite import SqliteNotifyStore
from core_alerts.telemetry import MetricsCollector


class ScriptedChannel:
    """A channel whose answers are scripted: each item is None (success) or an exception."""

    def __init__(self, *answers: Exception | None, gate: asyncio.Event | None = None) -> None:
        self.answers = list(answers)
        self.sent: list[str] = []
        self.send_resolved = True
        self.gate = gate

    async def send(self, notification: Notification) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append(notification.id)
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer


@pytest.fixture
async def store(tmp_path: Path, clock: FixedClock) -> AsyncIterator[SqliteNotifyStore]:
    s = SqliteNotifyStore(str(tmp_path / "n.db"), clock=clock)
    await s.open()
    yield s
    await s.close()


def note(n: int, clock: FixedClock, receiver: str = "ops") -> Notification:
    alert = NotifiedAlert(
        alert_id=f"a{n}",
        fingerprint=f"{n:016x}",
        status="firing",
        labels={"alertname": "X"},
        annotations={},
        starts_at=clock.now(),
    )
    return Notification(id=f"n{n:03d}", tenant_id="acme", receiver=receiver,
                        integration="webhook[0]", group_key="{}:{}", group_labels={},
                        alerts=(alert,), created_at=clock.now())  # fmt: skip


def worker(store, clock, channels, *, metrics=None, **policy) -> DeliveryWorker:
    def lookup(tenant: str, receiver: str, key: str) -> Integration | None:
        ch = channels.get(receiver)
        return None if ch is None else Integration(receiver, key, "webhook", True, ch)

    base = {"backoff_initial": 1.0, "backoff_max": 60.0, "receiver_rate": 1000.0,
            "receiver_burst": 1000.0, "tenant_rate": 1000.0, "tenant_burst": 1000.0}  # fmt: skip
    return DeliveryWorker(
        store, clock, lookup, LocalBuckets(), metrics or MetricsCollector(),
        DeliveryPolicy(**{**base, **policy}), owner="test", rng=random.Random(7),
    )  # fmt: skip


async def test_delivered_once_and_not_again(store, clock):
    channel = ScriptedChannel()
    w = worker(store, clock, {"ops": channel})
    await store.enqueue([note(1, clock)], [])
    assert await w.run_once() == 1
    assert await w.run_once() == 0
    entry = await store.get_outbox("acme", "n001")
    assert (channel.sent, entry.state, entry.attempts) == (["n001"], "delivered", 1)


async def test_retryable_failure_backs_off_with_jitter_then_succeeds(store, clock):
    channel = ScriptedChannel(DeliveryFailed("answered 500", retryable=True, status=500))
    w = worker(store, clock, {"ops": channel})
    await store.enqueue([note(1, clock)], [])
    await w.run_once()
    entry = await store.get_outbox("acme", "n001")
    assert (entry.state, entry.attempts, entry.last_error) == ("pending", 1, "answered 500")
    delay = entry.next_attempt_at - clock.now()
    assert 0.5 <= delay <= 1.0  # first retry: half fixed, half jitter of backoff_initial
    assert await w.run_once() == 0  # not due yet
    clock.advance(delay)
    await w.run_once()
    assert channel.sent == ["n001", "n001"]  # the same idempotency key both times
    assert (await store.get_outbox("acme", "n001")).state == "delivered"


async def test_backoff_grows_exponentially_and_is_capped():
    policy = DeliveryPolicy(backoff_initial=1.0, backoff_max=10.0)
    rng = random.Random(1)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)):
        delays = [policy.backoff(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 6) for d in delays}) > 1  # jittered


async def test_retry_after_is_honoured_when_longer_than_the_backoff(store, clock):
    channel = ScriptedChannel(DeliveryFailed("answered 429", retryable=True, retry_after=42.0))
    w = worker(store, clock, {"ops": channel})
    await store.enqueue([note(1, clock)], [])
    await w.run_once()
    entry = await store.get_outbox("acme", "n001")
    assert entry.next_attempt_at - clock.now() == pytest.approx(42.0)


async def test_gives_up_after_max_attempts_into_the_dead_letters(store, clock):
    fail = DeliveryFailed("answered 503", retryable=True)
    channel = ScriptedChannel(fail, fail, fail)
    w = worker(store, clock, {"ops": channel}, max_attempts=3)
    await store.enqueue([note(1, clock)], [])
    for _ in range(3):
        await w.run_once()
        clock.advance(120)
    entry = await store.get_outbox("acme", "n001")
    assert (entry.state, entry.attempts) == ("dead", 3)
    assert "gave up after 3 attempts" in entry.last_error
    assert len(channel.sent) == 3
    # Replayed: pending again with attempts reset, and delivered with the same id.
    assert await store.replay("acme", ["n001"], clock.now()) == 1
    await w.run_once()
    assert (await store.get_outbox("acme", "n001")).state == "delivered"
    assert channel.sent == ["n001"] * 4


async def test_a_permanent_failure_is_dead_at_once(store, clock):
    channel = ScriptedChannel(DeliveryFailed("answered 400: bad payload", retryable=False))
    metrics = MetricsCollector()
    w = worker(store, clock, {"ops": channel}, metrics=metrics)
    await store.enqueue([note(1, clock)], [])
    await w.run_once()
    entry = await store.get_outbox("acme", "n001")
    assert (entry.state, entry.attempts, entry.last_error) == (
        "dead", 1, "answered 400: bad payload"
    )  # fmt: skip
    assert metrics.notifications.labels("webhook", "dead")._value.get() == 1


async def test_a_removed_receiver_sends_to_the_dead_letters_with_the_reason(store, clock):
    w = worker(store, clock, {})
    await store.enqueue([note(1, clock, receiver="gone")], [])
    await w.run_once()
    entry = await store.get_outbox("acme", "n001")
    assert entry.state == "dead" and "'gone'" in entry.last_error


async def test_a_channel_bug_is_retried_not_fatal(store, clock):
    channel = ScriptedChannel(RuntimeError("boom"))
    w = worker(store, clock, {"ops": channel})
    await store.enqueue([note(1, clock)], [])
    await w.run_once()
    entry = await store.get_outbox("acme", "n001")
    assert (entry.state, entry.last_error) == ("pending", "RuntimeError")


async def test_receiver_rate_limit_postpones_without_spending_attempts(store, clock):
    channel = ScriptedChannel()
    metrics = MetricsCollector()
    w = worker(store, clock, {"ops": channel}, metrics=metrics, receiver_rate=1.0,
               receiver_burst=2.0)  # fmt: skip
    await store.enqueue([note(i, clock) for i in range(5)], [])
    await w.run_once()
    assert len(channel.sent) == 2
    waiting = (await store.list_outbox("acme", state="pending")).entries
    assert len(waiting) == 3 and all(e.attempts == 0 for e in waiting)
    assert all(e.last_error == "rate limited (receiver)" for e in waiting)
    assert metrics.notifications_rate_limited.labels("webhook", "receiver")._value.get() == 3
    clock.advance(2)  # the bucket refills to its burst of 2, not more
    await w.run_once()
    assert len(channel.sent) == 4
    clock.advance(1)
    await w.run_once()
    assert len(channel.sent) == 5


async def test_tenant_rate_limit_spans_receivers(store, clock):
    a, b = ScriptedChannel(), ScriptedChannel()
    w = worker(store, clock, {"a": a, "b": b}, tenant_rate=0.5, tenant_burst=2.0)
    await store.enqueue([note(1, clock, "a"), note(2, clock, "b"), note(3, clock, "a")], [])
    await w.run_once()
    assert len(a.sent) + len(b.sent) == 2


async def test_a_hanging_receiver_does_not_hold_up_the_others(store, clock):
    gate = asyncio.Event()
    slow, fast = ScriptedChannel(gate=gate), ScriptedChannel()
    w = worker(store, clock, {"slow": slow, "fast": fast}, concurrency=1)
    await store.enqueue(
        [note(1, clock, "slow"), note(2, clock, "slow"), note(3, clock, "fast")], []
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(w.run(stop))
    for _ in range(200):
        if fast.sent:
            break
        await asyncio.sleep(0.01)
    assert fast.sent == ["n003"] and slow.sent == []  # the slow lane holds only itself
    gate.set()
    for _ in range(200):
        if len(slow.sent) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await runner
    assert slow.sent == ["n001", "n002"]


async def test_a_backlogged_entry_whose_lease_is_nearly_over_is_handed_back(store, clock):
    gate = asyncio.Event()
    channel = ScriptedChannel(gate=gate)
    w = worker(store, clock, {"ops": channel}, concurrency=1, lease=100.0)
    await store.enqueue([note(1, clock), note(2, clock)], [])
    claim = asyncio.create_task(w.run_once())
    for _ in range(100):
        if w.held == 2:
            break
        await asyncio.sleep(0.01)
    clock.advance(90)  # n002 waited in the backlog for 90% of its lease
    gate.set()
    await claim
    assert channel.sent == ["n001"]
    entry = await store.get_outbox("acme", "n002")
    assert (entry.state, entry.attempts) == ("pending", 0)  # not sent, not counted
    await w.run_once()
    assert channel.sent == ["n001", "n002"]


async def test_entries_enqueued_under_its_lease_are_delivered_without_a_claim(store, clock):
    channel = ScriptedChannel()
    w = worker(store, clock, {"ops": channel}, concurrency=1)
    two = [note(1, clock), note(2, clock)]
    assert w.lease_for(two) is None  # not running: new entries wait in the outbox for a claim
    stop = asyncio.Event()
    runner = asyncio.create_task(w.run(stop))
    await asyncio.sleep(0)
    lease = w.lease_for(two)
    assert lease is not None and lease.owner == "test"
    crowd = [note(i, clock) for i in range(3, 3 + 34)]  # a lane of 1 slot holds 1 + 32
    assert w.lease_for(crowd) is None  # more than the receiver's lane can hold now
    claims = 0
    claim_due = store.claim_due

    async def counted(*args, **kwargs):
        nonlocal claims
        found = await claim_due(*args, **kwargs)
        claims += len(found)
        return found

    store.claim_due = counted
    taken = await store.enqueue(two, [], lease)
    await w.take(taken)
    await w.drain()
    stop.set()
    await runner
    assert channel.sent == ["n001", "n002"] and claims == 0
    assert (await store.get_outbox("acme", "n002")).state == "delivered"
    assert w.lease_for(two) is None  # stopped
