"""What the write path carries: a normalized alert, and what happened to it."""

from __future__ import annotations

import enum
from typing import ClassVar

import msgspec


class SendAction(enum.StrEnum):
    """What a sender asks for: PagerDuty-style senders can acknowledge, others fire/resolve."""

    FIRE = "fire"
    RESOLVE = "resolve"
    ACK = "ack"


class NormalizedAlert(msgspec.Struct, kw_only=True, gc=False):
    """One validated, normalized send, ready for dedup. Times are epoch seconds (UTC)."""

    tenant_id: str
    fingerprint: str
    source: str
    title: str
    description: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float | None
    ends_at_explicit: bool
    received_at: float
    action: SendAction = SendAction.FIRE
    generator_url: str = ""
    dedup_key: str | None = None
    alert_id: str | None = None
    """The id a new alert gets; None lets the store generate one (only when it creates)."""


class UnchangedRepeat(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A send that repeated its active alert without changing its content, reduced to what
    such a repeat changes. The SQLite intake keeps storm repeats in this form (a few dozen
    bytes instead of the whole send); replay expands one from its alert as it stands at
    that point, which is the state the planner saw, so the outcome is the same."""

    tenant_id: str
    fingerprint: str
    ends_at: float | None
    ends_at_explicit: bool
    alert_id: ClassVar[None] = None


class IngestOutcome(enum.StrEnum):
    CREATED = "created"
    DEDUPLICATED = "deduplicated"
    RESOLVED = "resolved"
    REFIRED = "refired"
    ACKNOWLEDGED = "acknowledged"
    IGNORED = "ignored"


class IngestResult(msgspec.Struct, kw_only=True, frozen=True):
    """What happened to one send: the stored alert it became part of, and how."""

    alert_id: str
    fingerprint: str
    outcome: IngestOutcome
    status: str
    occurrences: int
    reason: str = ""
