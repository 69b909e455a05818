"""NotificationHub: turns a group's flush into durable notifications, one per integration.

Per integration it asks the notification log whether the flush is news (Alertmanager's
DedupStage), snapshots the alerts, and enqueues the notifications together with the new
log entries in one transaction. Sensitive annotations stay encrypted in the outbox; the
delivery worker decrypts them just before sending. A crash after the enqueue neither loses
a notification nor sends one twice under different keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from core_alerts.domain.alert import new_alert_id
from core_alerts.domain.clock import Clock
from core_alerts.domain.notification import GroupFlush, Notification, NotifiedAlert
from core_alerts.domain.record import AlertRecord
from core_alerts.notify.dedup import needs_notify
from core_alerts.notify.receivers import Integration
from core_alerts.pipeline import Batcher
from core_alerts.store.notify import Lease, LogEntry, NotifyStore, OutboxEntry
from core_alerts.store.ports import AlertStore
from core_alerts.telemetry import MetricsCollector

LOG_RETENTION = 120 * 3600.0
"""How long a log entry outlives its repeat interval (Alertmanager keeps its nflog 120 h)."""


class Taker(Protocol):
    """Who delivers what the hub enqueues (the DeliveryWorker of this process)."""

    def lease_for(self, notifications: Sequence[Notification]) -> Lease | None:
        """A lease for these new entries, or None to leave them to the next claim."""
        ...

    async def take(self, entries: list[OutboxEntry]) -> None:
        """Start on entries claimed with that lease."""
        ...


class NotificationHub:
    """The flush handler of the dispatcher, and the directory of every tenant's receivers."""

    def __init__(
        self,
        store: NotifyStore,
        alerts: AlertStore,
        clock: Clock,
        metrics: MetricsCollector,
        *,
        external_url: str = "",
        max_alerts: int = 1000,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self._alerts = alerts
        self._clock = clock
        self._metrics = metrics
        self._external_url = external_url
        self._max_alerts = max_alerts
        self._on_enqueued = on_enqueued
        self.taker: Taker | None = None
        """Set: new notifications are claimed as they are enqueued and handed over at once
        (no wake-up and claim round trip); otherwise on_enqueued wakes a worker."""
        self._receivers: dict[str, dict[str, tuple[Integration, ...]]] = {}
        self._batcher: Batcher[GroupFlush] = Batcher(self._flush_batch)

    def set_receivers(self, tenant_id: str, receivers: Mapping[str, Sequence[Integration]]) -> None:
        self._receivers[tenant_id] = {name: tuple(i) for name, i in receivers.items()}

    def receivers(self, tenant_id: str) -> dict[str, tuple[Integration, ...]]:
        return dict(self._receivers.get(tenant_id, {}))

    def integration(self, tenant_id: str, receiver: str, key: str) -> Integration | None:
        for integration in self._receivers.get(tenant_id, {}).get(receiver, ()):
            if integration.key == key:
                return integration
        return None

    async def flush(self, flush: GroupFlush) -> None:
        """The dispatcher's on_flush. Concurrent flushes are handled together: one log
        read, one alert read per tenant and one transaction for all of them."""
        if self._receivers.get(flush.tenant_id, {}).get(flush.receiver):
            await self._batcher.submit(flush)

    async def _flush_batch(self, flushes: list[GroupFlush]) -> None:
        now = self._clock.now()
        by_tenant: dict[str, list[GroupFlush]] = {}
        for flush in flushes:
            by_tenant.setdefault(flush.tenant_id, []).append(flush)
        notifications: list[Notification] = []
        entries: list[LogEntry] = []
        for tenant_id, tenant_flushes in by_tenant.items():
            sent, logged = await self._tenant_batch(tenant_id, tenant_flushes, now)
            notifications.extend(sent)
            entries.extend(logged)
        if not entries:
            return
        taker = self.taker
        lease = taker.lease_for(notifications) if taker and notifications else None
        taken = await self.store.enqueue(notifications, entries, lease)
        if taken and taker is not None:
            await taker.take(taken)
        elif notifications and self._on_enqueued is not None:
            self._on_enqueued()

    async def _tenant_batch(
        self, tenant_id: str, flushes: list[GroupFlush], now: float
    ) -> tuple[list[Notification], list[LogEntry]]:
        keys = [(f.group_key, f.receiver) for f in flushes]
        previous = {
            (e.group_key, e.receiver, e.integration): e
            for e in await self.store.read_logs(tenant_id, keys)
        }
        due: list[tuple[GroupFlush, list[Integration]]] = []
        for flush in flushes:
            firing, resolved = _split(flush)
            integrations = self._receivers.get(tenant_id, {}).get(flush.receiver, ())
            logged = [previous.get((flush.group_key, flush.receiver, i.key)) for i in integrations]
            news = [
                i
                for i, entry in zip(integrations, logged, strict=True)
                if _is_news(entry, firing, resolved, i, flush.repeat_interval, now)
            ]
            self._metrics.notification_flushes.labels("notified" if news else "unchanged").inc()
            if news:
                due.append((flush, news))
        if not due:
            return [], []
        ids = {m.alert_id for flush, _ in due for m in flush.members}
        records = {r.id: r for r in await self._alerts.get_many(tenant_id, sorted(ids))}
        notifications, entries = [], []
        for flush, news in due:
            firing, resolved = _split(flush)
            snapshot = _snapshots(flush, records, now)
            for integration in news:
                entries.append(_log_entry(flush, integration, firing, resolved, now))
                sent = snapshot if integration.send_resolved else [
                    a for a in snapshot if a.status == "firing"
                ]  # fmt: skip
                if sent:  # all resolved to a send_resolved: false integration: logged only
                    notifications.append(self._notification(flush, integration, sent, now))
        return notifications, entries

    def _notification(
        self, flush: GroupFlush, integration: Integration, alerts: list[NotifiedAlert], now: float
    ) -> Notification:
        carried = alerts[: self._max_alerts]
        return Notification(
            id=new_alert_id(),
            tenant_id=flush.tenant_id,
            receiver=flush.receiver,
            integration=integration.key,
            group_key=flush.group_key,
            group_labels=dict(flush.group_labels),
            alerts=tuple(carried),
            created_at=now,
            external_url=self._external_url,
            truncated_alerts=len(alerts) - len(carried),
        )


def _split(flush: GroupFlush) -> tuple[set[str], set[str]]:
    firing = {m.alert_id for m in flush.members if not m.resolved}
    return firing, {m.alert_id for m in flush.members if m.resolved}


def _is_news(
    entry: LogEntry | None,
    firing: set[str],
    resolved: set[str],
    integration: Integration,
    repeat_interval: float,
    now: float,
) -> bool:
    return needs_notify(
        previous_firing=None if entry is None else set(entry.firing),
        previous_resolved=set() if entry is None else set(entry.resolved),
        previous_at=0.0 if entry is None else entry.at,
        firing=firing,
        resolved=resolved,
        send_resolved=integration.send_resolved,
        repeat_interval=repeat_interval,
        now=now,
    )


def _log_entry(
    flush: GroupFlush, integration: Integration, firing: set[str], resolved: set[str], now: float
) -> LogEntry:
    return LogEntry(
        tenant_id=flush.tenant_id,
        group_key=flush.group_key,
        receiver=flush.receiver,
        integration=integration.key,
        firing=sorted(firing),
        resolved=sorted(resolved),
        at=now,
        expires_at=now + flush.repeat_interval + LOG_RETENTION,
    )


def _snapshots(
    flush: GroupFlush, records: Mapping[str, AlertRecord], now: float
) -> list[NotifiedAlert]:
    out = []
    for member in flush.members:
        rec = records.get(member.alert_id)
        if rec is None:  # erased or purged since it joined the group
            continue
        if member.resolved:
            ends_at: float | None = rec.resolved_at or rec.ends_at or now
        else:
            ends_at = rec.ends_at if rec.ends_at_explicit else None
        out.append(
            NotifiedAlert(
                alert_id=rec.id,
                fingerprint=rec.fingerprint,
                status="resolved" if member.resolved else "firing",
                labels=rec.labels,
                annotations=rec.annotations,
                starts_at=rec.starts_at,
                ends_at=ends_at,
                generator_url=rec.generator_url,
                severity=rec.severity,
                title=rec.title,
                description=rec.description,
            )
        )
    return out
