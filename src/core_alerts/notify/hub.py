"""NotificationHub: turns a group's flush into durable notifications, one per integration.

Per integration it asks the notification log whether the flush is news (Alertmanager's
DedupStage), snapshots the alerts, and enqueues the notifications together with the new
log entries in one transaction. Sensitive annotations stay encrypted in the outbox; the
delivery worker decrypts them just before sending. A crash after the enqueue neither loses
a notification nor sends one twice under different keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import structlog

from core_alerts.domain.alert import new_alert_id
from core_alerts.domain.clock import Clock
from core_alerts.domain.notification import GroupFlush, Notification, NotifiedAlert
from core_alerts.domain.record import AlertRecord, Decision
from core_alerts.notify.dedup import needs_notify
from core_alerts.notify.receivers import Integration
from core_alerts.store.notify import LogEntry, NotifyStore
from core_alerts.store.ports import AlertStore
from core_alerts.telemetry import MetricsCollector

log = structlog.get_logger(__name__)

LOG_RETENTION = 120 * 3600.0
"""How long a log entry outlives its repeat interval (Alertmanager keeps its nflog 120 h)."""


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
        self._receivers: dict[str, dict[str, tuple[Integration, ...]]] = {}

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
        integrations = self._receivers.get(flush.tenant_id, {}).get(flush.receiver, ())
        if not integrations:
            return
        now = self._clock.now()
        firing = {m.alert_id for m in flush.members if not m.resolved}
        resolved = {m.alert_id for m in flush.members if m.resolved}
        previous = {
            e.integration: e
            for e in await self.store.read_log(flush.tenant_id, flush.group_key, flush.receiver)
        }
        due = [
            i
            for i in integrations
            if _is_news(previous.get(i.key), firing, resolved, i, flush.repeat_interval, now)
        ]
        if not due:
            self._metrics.notification_flushes.labels("unchanged").inc()
            return
        records = await self._alerts.get_many(flush.tenant_id, [m.alert_id for m in flush.members])
        snapshot = _snapshots(flush, {r.id: r for r in records}, now)
        notifications, entries = [], []
        for integration in due:
            entries.append(_log_entry(flush, integration, firing, resolved, now))
            sent = snapshot if integration.send_resolved else [
                a for a in snapshot if a.status == "firing"
            ]  # fmt: skip
            if sent:  # all resolved to a send_resolved: false integration: logged, not sent
                notifications.append(self._notification(flush, integration, sent, now))
        await self.store.enqueue(notifications, entries)
        self._metrics.notification_flushes.labels("notified").inc()
        await self._record(flush, notifications, now)
        if notifications and self._on_enqueued is not None:
            self._on_enqueued()

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

    async def _record(self, flush: GroupFlush, sent: list[Notification], now: float) -> None:
        """One decision per alert carried: notified via which integrations (for `explain`)."""
        via: dict[str, list[str]] = {}
        for n in sent:
            for a in n.alerts:
                via.setdefault(a.alert_id, []).append(f"{n.receiver}/{n.integration}")
        decisions = [
            Decision(
                tenant_id=flush.tenant_id,
                alert_id=alert_id,
                at=now,
                stage="notify",
                decision="notified",
                reason=f"group {flush.group_key} via {', '.join(targets)}",
                details={"group_key": flush.group_key, "integrations": targets},
            )
            for alert_id, targets in via.items()
        ]
        if decisions:
            try:
                await self._alerts.add_decisions(decisions)
            except Exception:  # the explanation is best effort; the notification is queued
                log.warning("could not record notify decisions", group_key=flush.group_key)


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
