"""The retention job: deletes each tenant's alerts resolved longer ago than its policy says."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from core_alerts.config import RetentionSettings
from core_alerts.domain.clock import Clock
from core_alerts.pipeline import Periodic
from core_alerts.store import AlertStore

log = structlog.get_logger(__name__)
DAY = 86_400.0
Tenants = Callable[[], Awaitable[list[str]]]
Record = Callable[[str, int, float], None]
"""(tenant, alerts deleted, days kept): the audit trail's note of a purge."""


class RetentionJob:
    def __init__(
        self,
        settings: RetentionSettings,
        store: AlertStore,
        clock: Clock,
        *,
        tenants: Tenants,
        record: Record | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._tenants = tenants
        self._record = record
        self._runner = Periodic(self._run_logged, settings.interval, "retention", run_first=True)

    def days_for(self, tenant_id: str) -> float | None:
        return self.settings.tenants.get(tenant_id, self.settings.resolved_days)

    async def run_once(self) -> dict[str, int]:
        """Apply every tenant's policy now; returns alerts deleted per tenant."""
        deleted: dict[str, int] = {}
        for tenant_id in await self._tenants():
            days = self.days_for(tenant_id)
            if days is None:
                continue
            cutoff = self.clock.now() - days * DAY
            total = 0
            while True:  # small transactions: writers are never held up for long
                n = await self.store.purge_resolved(tenant_id, cutoff, self.settings.batch)
                total += n
                if n < self.settings.batch:
                    break
            if total:
                deleted[tenant_id] = total
                if self._record is not None:
                    self._record(tenant_id, total, days)
        return deleted

    def start(self) -> None:
        if self.settings.resolved_days or self.settings.tenants:
            self._runner.start()

    async def stop(self) -> None:
        await self._runner.stop()

    async def _run_logged(self) -> None:
        deleted = await self.run_once()
        if deleted:
            log.info("retention deleted resolved alerts", deleted=deleted)
