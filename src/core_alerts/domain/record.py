"""The stored state of one alert and of one lifecycle transition."""

from __future__ import annotations

import msgspec


class AlertRecord(msgspec.Struct, kw_only=True):
    """One alert as kept by the store: identity, content, lifecycle and dedup counters."""

    tenant_id: str
    id: str
    fingerprint: str
    status: str
    severity: str
    title: str
    description: str
    source: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float | None
    ends_at_explicit: bool
    first_seen: float
    last_seen: float
    updated_at: float
    occurrences: int = 1
    generator_url: str = ""
    dedup_key: str | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    resolved_at: float | None = None
    seq: int = 0

    def is_expired(self, now: float) -> bool:
        """Active in the store but past its endsAt: Alertmanager counts it as resolved."""
        return self.status != "resolved" and self.ends_at is not None and self.ends_at <= now

    def effective_status(self, now: float) -> str:
        return "resolved" if self.is_expired(now) else self.status


class Transition(msgspec.Struct, kw_only=True, frozen=True):
    """One lifecycle change: who, when, why."""

    tenant_id: str
    alert_id: str
    at: float
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    comment: str = ""


class Decision(msgspec.Struct, kw_only=True, frozen=True):
    """One entry of an alert's decision record (`explain`); every stage may append."""

    tenant_id: str
    alert_id: str
    at: float
    stage: str
    decision: str
    reason: str
    details: dict[str, object] = msgspec.field(default_factory=dict)
