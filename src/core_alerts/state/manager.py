"""StateManager: firing -> acknowledged -> resolved, re-fire, auto-resolve, history."""

from __future__ import annotations

from core_alerts.bus import EventBus
from core_alerts.domain.clock import Clock
from core_alerts.domain.errors import AlertNotFound
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.lifecycle import HumanAction
from core_alerts.domain.record import AlertRecord, Transition
from core_alerts.pipeline import Periodic
from core_alerts.store import AlertStore
from core_alerts.telemetry import MetricsCollector


class StateManager:
    def __init__(
        self,
        store: AlertStore,
        bus: EventBus,
        clock: Clock,
        metrics: MetricsCollector,
        expiry_interval: float = 5.0,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.metrics = metrics
        self.expiry_interval = expiry_interval
        self._sweeper = Periodic(self.expire_due, expiry_interval, "auto-resolve sweep")

    async def _act(
        self, tenant_id: str, alert_id: str, action: HumanAction, actor: str, comment: str
    ) -> AlertRecord:
        rec = await self.store.transition(tenant_id, alert_id, action, actor, comment)
        await self._publish([rec], actor=actor, outcome=action.value)
        return rec

    async def acknowledge(
        self, tenant_id: str, alert_id: str, actor: str, comment: str = ""
    ) -> AlertRecord:
        return await self._act(tenant_id, alert_id, HumanAction.ACK, actor, comment)

    async def unacknowledge(
        self, tenant_id: str, alert_id: str, actor: str, comment: str = ""
    ) -> AlertRecord:
        return await self._act(tenant_id, alert_id, HumanAction.UNACK, actor, comment)

    async def resolve(
        self, tenant_id: str, alert_id: str, actor: str, comment: str = ""
    ) -> AlertRecord:
        return await self._act(tenant_id, alert_id, HumanAction.RESOLVE, actor, comment)

    async def history(self, tenant_id: str, alert_id: str) -> list[Transition]:
        if await self.store.get(tenant_id, alert_id) is None:
            raise AlertNotFound(f"alert {alert_id} not found")
        return await self.store.history(tenant_id, alert_id)

    async def expire_due(self, limit: int = 1000) -> int:
        """Resolve every alert whose endsAt has passed; return how many changed."""
        total = 0
        while True:
            changed = await self.store.expire_due(limit)
            if not changed:
                return total
            total += len(changed)
            for rec, _ in changed:
                self.metrics.expired.labels(rec.tenant_id).inc()
            await self._publish([rec for rec, _ in changed], actor="system", outcome="expired")
            if len(changed) < limit:
                return total

    async def _publish(self, records: list[AlertRecord], *, actor: str, outcome: str) -> None:
        now = self.clock.now()
        await self.bus.publish(
            AlertChanged.topic,
            [AlertChanged.of(r, outcome=outcome, at=now, actor=actor) for r in records],
        )

    def start(self) -> None:
        self._sweeper.start()

    async def stop(self) -> None:
        await self._sweeper.stop()
