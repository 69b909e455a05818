"""Domain events published on the bus after a change is committed."""

from __future__ import annotations

from typing import ClassVar

import msgspec


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
