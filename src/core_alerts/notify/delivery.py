"""DeliveryWorker: drains the outbox, one lane per receiver, with retries and dead letters.

A lane holds a receiver's deliveries: at most `concurrency` in flight and a bounded backlog,
so a slow or failing receiver delays only itself. Each attempt is rate-limited per receiver
and per tenant, bounded in time, and recorded: delivered, due again after a backoff with
jitter (or the receiver's Retry-After), or dead with the reason after `max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog

from core_alerts.domain.clock import Clock
from core_alerts.domain.errors import CoreAlertsError
from core_alerts.domain.notification import Notification
from core_alerts.notify.channels import DeliveryFailed
from core_alerts.notify.receivers import Integration
from core_alerts.pipeline import Batcher
from core_alerts.store.buckets import TokenBuckets
from core_alerts.store.notify import Lease, NotifyStore, OutboxEntry, Outcome
from core_alerts.telemetry import MetricsCollector

log = structlog.get_logger(__name__)

MAX_RETRY_AFTER = 3600.0
"""The longest Retry-After honoured; a receiver asking for more is retried after this."""
_POLL = 1.0  # other processes enqueue too; look at least this often
_BACKLOG_PER_SLOT = 32
_HAND_BACK_DELAY = 1.0


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 10
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    receiver_rate: float = 10.0
    receiver_burst: float = 20.0
    tenant_rate: float = 50.0
    tenant_burst: float = 100.0
    concurrency: int = 4
    lease: float = 120.0
    capacity: int = 256
    """Deliveries one worker holds at once, all lanes together."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential with equal jitter: half fixed, half random, so retries spread out."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** max(0, attempt - 1))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


@dataclass
class _Lane:
    active: int = 0
    backlog: deque[tuple[OutboxEntry, float]] = field(default_factory=deque)
    """Claimed entries waiting for a slot, with the time each was claimed."""


Lookup = Callable[[str, str, str], Integration | None]


class DeliveryWorker:
    def __init__(
        self,
        store: NotifyStore,
        clock: Clock,
        lookup: Lookup,
        buckets: TokenBuckets,
        metrics: MetricsCollector,
        policy: DeliveryPolicy,
        *,
        owner: str,
        rng: random.Random | None = None,
        prepare: Callable[[Notification], Awaitable[Notification]] | None = None,
    ) -> None:
        """`prepare` runs on each notification right before it is sent (decrypting the
        sensitive annotations kept encrypted in the outbox)."""
        self._store = store
        self._clock = clock
        self._lookup = lookup
        self._buckets = buckets
        self._metrics = metrics
        self._policy = policy
        self._owner = owner
        self._prepare = prepare
        self._rng = rng or random.Random()
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._held = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._writes: set[asyncio.Future[None]] = set()
        self._wake = asyncio.Event()
        self._gauged: set[str] = set()
        self._running = False
        # Outcomes of concurrent deliveries are recorded together: one transaction each burst.
        self._outcomes: Batcher[Outcome] = Batcher(self._store.record)

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next due time."""
        self._wake.set()

    def lease_for(self, notifications: Sequence[Notification]) -> Lease | None:
        """A lease on notifications about to be enqueued, if this worker is running and has
        room for all of them now, in total and in each receiver's lane (a lane that would
        have to hand entries back leaves them to the next claim instead)."""
        if not self._running or self._policy.capacity - self._held < len(notifications):
            return None
        wanted = Counter((n.tenant_id, n.receiver) for n in notifications)
        slots = self._policy.concurrency * (1 + _BACKLOG_PER_SLOT)
        for key, count in wanted.items():
            lane = self._lanes.get(key)
            used = 0 if lane is None else lane.active + len(lane.backlog)
            if used + count > slots:
                return None
        return Lease(self._owner, self._clock.now() + self._policy.lease)

    async def take(self, entries: list[OutboxEntry]) -> None:
        """Entries enqueued under `lease_for`'s lease: deliver them as if just claimed."""
        for entry in entries:
            await self._schedule(entry)

    @property
    def held(self) -> int:
        return self._held

    async def run_once(self) -> int:
        """Claim what is due and deliver it all (tests and `core-alerts dlq replay` use it)."""
        claimed = await self._claim()
        await self.drain()
        return claimed

    async def drain(self) -> None:
        """Wait for the deliveries in flight and for their outcomes to be written."""
        while self._tasks or self._writes:
            await asyncio.gather(*list(self._tasks), *list(self._writes), return_exceptions=True)

    def _record(self, outcome: Outcome) -> None:
        """Queue an outcome for the next batched write and go on: the lane does not wait for
        the disk. If the write fails, the entry's lease runs out and it is sent again (with
        the same idempotency key)."""
        write = asyncio.ensure_future(self._outcomes.submit(outcome))
        self._writes.add(write)
        write.add_done_callback(self._written)

    def _written(self, write: asyncio.Future[None]) -> None:
        self._writes.discard(write)
        if not write.cancelled() and write.exception() is not None:
            log.warning("could not record a delivery outcome", error=str(write.exception()))

    async def run(self, stop: asyncio.Event) -> None:
        self._running = True
        try:
            await self._loop(stop)
        finally:
            self._running = False
        await self.drain()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # before claiming: a wake-up during the claim is kept
            try:
                await self._claim()
                timeout = await self._sleep_for()
            except CoreAlertsError as exc:
                log.warning("outbox unavailable", error=exc.message)
                timeout = _POLL
            if self._wake.is_set() or timeout <= 0:
                continue
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _sleep_for(self) -> float:
        if self._held >= self._policy.capacity:
            return _POLL
        due = await self._store.next_due()
        if due is None:
            return _POLL
        return max(0.0, min(_POLL, due - self._clock.now()))

    async def _claim(self) -> int:
        free = self._policy.capacity - self._held
        if free <= 0:
            return 0
        entries = await self._store.claim_due(
            self._clock.now(), free, self._policy.lease, self._owner
        )
        for entry in entries:
            await self._schedule(entry)
        return len(entries)

    async def _schedule(self, entry: OutboxEntry) -> None:
        n = entry.notification
        lane = self._lanes.setdefault((n.tenant_id, n.receiver), _Lane())
        if lane.active < self._policy.concurrency:
            self._start(lane, entry)
        elif len(lane.backlog) < self._policy.concurrency * _BACKLOG_PER_SLOT:
            self._held += 1
            lane.backlog.append((entry, self._clock.now()))
        else:  # this receiver is behind: hand the entry back rather than starve the others
            await self._hand_back(entry, _HAND_BACK_DELAY)

    async def _hand_back(self, entry: OutboxEntry, delay: float) -> None:
        now = self._clock.now()
        self._record(
            Outcome(notification_id=entry.id, state="pending", attempts=entry.attempts, at=now,
                    next_attempt_at=now + delay, error=entry.last_error)
        )  # fmt: skip

    def _start(self, lane: _Lane, entry: OutboxEntry) -> None:
        lane.active += 1
        self._held += 1
        task = asyncio.create_task(self._run_lane(lane, entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_lane(self, lane: _Lane, entry: OutboxEntry) -> None:
        current: OutboxEntry | None = entry
        try:
            while current is not None:
                try:
                    await self._deliver(current)
                except CoreAlertsError as exc:  # the outbox write failed: the lease will expire
                    log.warning("could not record a delivery", id=current.id, error=exc.message)
                self._held -= 1
                current = await self._next_in(lane)
        finally:
            lane.active -= 1
            self.wake()

    async def _next_in(self, lane: _Lane) -> OutboxEntry | None:
        """The lane's next entry whose lease is still safely ours; older ones are handed back
        (another worker may take them once the lease ends: sending them now could race it)."""
        while lane.backlog:
            entry, claimed_at = lane.backlog.popleft()
            if self._clock.now() - claimed_at < self._policy.lease * 0.8:
                return entry
            self._held -= 1
            with contextlib.suppress(CoreAlertsError):  # else the lease expires anyway
                await self._hand_back(entry, 0.0)
        return None

    async def _deliver(self, entry: OutboxEntry) -> None:
        n = entry.notification
        integration = self._lookup(n.tenant_id, n.receiver, n.integration)
        if integration is None:
            reason = f"receiver {n.receiver!r} has no integration {n.integration} any more"
            await self._dead(entry, entry.attempts, reason, "none")
            return
        if await self._limited(entry, integration):
            return
        attempts = entry.attempts + 1
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._policy.lease / 2):
                if self._prepare is not None:
                    n = await self._prepare(n)
                await integration.channel.send(n)
        except DeliveryFailed as exc:
            await self._failed(entry, integration, attempts, exc.message, exc.retryable,
                               exc.retry_after)  # fmt: skip
        except TimeoutError:
            await self._failed(entry, integration, attempts, "no answer in time", True, None)
        except Exception as exc:  # a channel bug must not stop the worker
            log.exception("channel failed", integration=integration.kind)
            await self._failed(entry, integration, attempts, type(exc).__name__, True, None)
        else:
            self._record(
                Outcome(notification_id=entry.id, state="delivered", attempts=attempts,
                        at=self._clock.now())
            )  # fmt: skip
            self._metrics.notifications.labels(integration.kind, "delivered").inc()
        finally:
            elapsed = time.perf_counter() - started
            self._metrics.notification_latency.labels(integration.kind).observe(elapsed)

    async def _limited(self, entry: OutboxEntry, integration: Integration) -> bool:
        n, p, now = entry.notification, self._policy, self._clock.now()
        for scope, key, rate, burst in (
            ("receiver", f"notify:{n.tenant_id}:{n.receiver}", p.receiver_rate, p.receiver_burst),
            ("tenant", f"notify:{n.tenant_id}", p.tenant_rate, p.tenant_burst),
        ):
            wait = await self._buckets.take(key, rate, burst, now)
            if wait > 0:
                self._metrics.notifications_rate_limited.labels(integration.kind, scope).inc()
                self._record(
                    Outcome(notification_id=entry.id, state="pending", attempts=entry.attempts,
                            at=now, next_attempt_at=now + wait, error=f"rate limited ({scope})")
                )  # fmt: skip
                return True
        return False

    async def _failed(
        self,
        entry: OutboxEntry,
        integration: Integration,
        attempts: int,
        reason: str,
        retryable: bool,
        retry_after: float | None,
    ) -> None:
        if not retryable or attempts >= self._policy.max_attempts:
            why = reason if not retryable else f"{reason} (gave up after {attempts} attempts)"
            await self._dead(entry, attempts, why, integration.kind)
            return
        self._metrics.notifications.labels(integration.kind, "failed").inc()
        delay = self._policy.backoff(attempts, self._rng)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        now = self._clock.now()
        self._record(
            Outcome(notification_id=entry.id, state="pending", attempts=attempts, at=now,
                    next_attempt_at=now + delay, error=reason)
        )  # fmt: skip
        log.info("delivery will be retried", id=entry.id, attempts=attempts, delay=round(delay, 2))

    async def _dead(self, entry: OutboxEntry, attempts: int, reason: str, kind: str) -> None:
        self._record(
            Outcome(notification_id=entry.id, state="dead", attempts=attempts,
                    at=self._clock.now(), error=reason)
        )  # fmt: skip
        self._metrics.notifications.labels(kind, "dead").inc()
        log.warning("notification moved to the dead letters", id=entry.id, reason=reason)

    async def refresh_gauges(self) -> None:
        counts = await self._store.counts()
        tenants = {t for t, _ in counts} | self._gauged
        for tenant_id in tenants:
            self._metrics.notification_queue.labels(tenant_id).set(
                counts.get((tenant_id, "pending"), 0)
            )
            self._metrics.notification_dead.labels(tenant_id).set(
                counts.get((tenant_id, "dead"), 0)
            )
        self._gauged = {t for t, _ in counts}
