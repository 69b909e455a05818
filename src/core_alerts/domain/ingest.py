"""What the write path carries: a normalized alert, and what happened to it."""

from __future__ import annotations

import enum
import hashlib
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


_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(NormalizedAlert).decode


def content_digest(send: NormalizedAlert) -> bytes:
    """A digest of everything a repeat may change in its alert's content (what the planner
    compares); equal digests mean equal content. The same in every process."""
    content = (
        send.labels,
        send.annotations,
        send.title,
        send.description,
        send.severity,
        send.generator_url,
    )
    return hashlib.blake2b(_pack(content), digest_size=16).digest()


class PackedSend(msgspec.Struct, array_like=True, omit_defaults=True, gc=False):
    """A send as a decode worker hands it over: what dedup needs to recognise a repeat, a
    digest of its content, and the whole send still packed. A repeat that changes nothing
    is planned from this alone; the send is unpacked only when the planner needs it.

    The planner fills `labels` and `starts_at` (from the send, or from the alert a repeat
    left unchanged), which the change events carry."""

    tenant_id: str
    fingerprint: str
    action: SendAction
    ends_at: float | None
    ends_at_explicit: bool
    severity: str
    alert_id: str | None
    digest: bytes
    packed: msgspec.Raw
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    starts_at: float | None = None
    _unpacked: NormalizedAlert | None = None

    @classmethod
    def of(cls, send: NormalizedAlert, digest: bytes | None = None) -> PackedSend:
        """`send` packed; `digest` is its `content_digest` when the caller knows it."""
        return cls(
            send.tenant_id,
            send.fingerprint,
            send.action,
            send.ends_at,
            send.ends_at_explicit,
            send.severity,
            send.alert_id,
            content_digest(send) if digest is None else digest,
            msgspec.Raw(_pack(send)),
        )

    def unpack(self) -> NormalizedAlert:
        """The whole send (decoded once)."""
        if self._unpacked is None:
            self._unpacked = _unpack(self.packed)
        return self._unpacked


IngestSend = NormalizedAlert | PackedSend
"""What the store's write path takes."""


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
