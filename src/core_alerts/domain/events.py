"""Domain events published on the bus after a change is committed."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from core_alerts.domain.record import AlertRecord


class AlertChanged(msgspec.Struct, frozen=True, kw_only=True):
    """An alert was created, merged, resolved, re-fired or changed state (after commit)."""

    tenant_id: str
    alert_id: str
    fingerprint: str
    outcome: str
    status: str
    severity: str
    occurrences: int
    at: float
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    actor: str | None = None
    starts_at: float | None = None
    """When the alert started firing (Alertmanager's startsAt), for grouping timers."""

    topic: ClassVar[str] = "alerts.changed"

    @classmethod
    def of(
        cls,
        record: AlertRecord,
        *,
        outcome: str,
        at: float,
        actor: str | None = None,
        status: str | None = None,
    ) -> AlertChanged:
        """The event for a stored alert (`status` overrides the stored one)."""
        return cls(
            tenant_id=record.tenant_id,
            alert_id=record.id,
            fingerprint=record.fingerprint,
            outcome=outcome,
            status=record.status if status is None else status,
            severity=record.severity,
            occurrences=record.occurrences,
            at=at,
            labels=record.labels,
            actor=actor,
            starts_at=record.starts_at,
        )
