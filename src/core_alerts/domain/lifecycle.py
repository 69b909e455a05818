"""The alert lifecycle: how sends and human actions change a stored alert.

Pure functions over AlertRecord. Store backends load the current records, call
`plan_batch`, and write what it returns inside one transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import msgspec

from core_alerts.domain.alert import AlertStatus, new_alert_id
from core_alerts.domain.errors import InvalidTransition
from core_alerts.domain.ingest import (
    IngestOutcome,
    IngestResult,
    NormalizedAlert,
    PackedSend,
    SendAction,
    UnchangedRepeat,
)
from core_alerts.domain.record import AlertRecord, Decision, Transition

FIRING = AlertStatus.FIRING.value
ACKNOWLEDGED = AlertStatus.ACKNOWLEDGED.value
RESOLVED = AlertStatus.RESOLVED.value
SUPPRESSED = AlertStatus.SUPPRESSED.value
SOURCE_ACTOR = "source"
SYSTEM_ACTOR = "system"

Key = tuple[str, str]
"""(tenant_id, fingerprint)"""

PlannedSend = NormalizedAlert | PackedSend | UnchangedRepeat
"""What the planner takes: a send, packed or not, or an intake's short repeat."""


class HumanAction(enum.StrEnum):
    ACK = "ack"
    UNACK = "unack"
    RESOLVE = "resolve"


_ALLOWED: dict[HumanAction, tuple[frozenset[str], str]] = {
    HumanAction.ACK: (frozenset({FIRING, SUPPRESSED}), ACKNOWLEDGED),
    HumanAction.UNACK: (frozenset({ACKNOWLEDGED}), FIRING),
    HumanAction.RESOLVE: (frozenset({FIRING, ACKNOWLEDGED, SUPPRESSED}), RESOLVED),
}


def expiry_reason(record: AlertRecord) -> str:
    if record.ends_at_explicit:
        return "endsAt passed"
    return "resolve_timeout: the source stopped re-sending"


def expire(record: AlertRecord, now: float) -> Transition | None:
    """Resolve an active record whose endsAt has passed; None when nothing changes."""
    if not record.is_expired(now):
        return None
    assert record.ends_at is not None
    old = record.status
    record.status = RESOLVED
    record.resolved_at = record.ends_at
    record.updated_at = now
    return Transition(
        tenant_id=record.tenant_id,
        alert_id=record.id,
        at=now,
        from_status=old,
        to_status=RESOLVED,
        actor=SYSTEM_ACTOR,
        reason=expiry_reason(record),
    )


def apply_human_action(
    record: AlertRecord, action: HumanAction, actor: str, comment: str, now: float
) -> list[Transition]:
    """Acknowledge, unacknowledge or resolve; raises InvalidTransition when not allowed."""
    transitions: list[Transition] = []
    expired = expire(record, now)
    if expired is not None:
        transitions.append(expired)
    allowed_from, target = _ALLOWED[action]
    if record.status not in allowed_from:
        allowed = ", ".join(sorted(allowed_from))
        raise InvalidTransition(
            f"cannot {action.value} alert {record.id}: it is {record.status}; "
            f"{action.value} is allowed from {allowed}"
        )
    old = record.status
    record.status = target
    record.updated_at = now
    if action is HumanAction.ACK:
        record.acked_by, record.acked_at = actor, now
    elif action is HumanAction.UNACK:
        record.acked_by = record.acked_at = None
    else:
        record.resolved_at = now
        record.ends_at = now
        record.ends_at_explicit = True
    transitions.append(
        Transition(
            tenant_id=record.tenant_id,
            alert_id=record.id,
            at=now,
            from_status=old,
            to_status=target,
            actor=actor,
            reason=f"{action.value} by {actor}",
            comment=comment,
        )
    )
    return transitions


class BatchPlan(msgspec.Struct, kw_only=True):
    """What one write transaction must do, and what to answer each request."""

    inserts: dict[Key, AlertRecord] = msgspec.field(default_factory=dict)
    updates: dict[Key, AlertRecord] = msgspec.field(default_factory=dict)
    transitions: list[Transition] = msgspec.field(default_factory=list)
    decisions: list[Decision] = msgspec.field(default_factory=list)
    results: list[list[IngestResult]] = msgspec.field(default_factory=list)
    reshaped: set[Key] = msgspec.field(default_factory=set)
    """Updated keys whose content or status changed; the others changed only COUNTER_FIELDS."""
    unchanged: list[list[PlannedSend]] = msgspec.field(default_factory=list)
    """Per request, its sends that repeated an active alert unchanged (each can be kept as
    an UnchangedRepeat)."""
    digests: dict[Key, bytes | None] = msgspec.field(default_factory=dict)
    """Content digests to remember once committed: the digest of a packed send whose
    content the alert now has, or None where a send of unknown digest may have changed it."""

    def touched(self) -> list[AlertRecord]:
        return [*self.inserts.values(), *self.updates.values()]

    def counter_only(self) -> list[AlertRecord]:
        return [r for k, r in self.updates.items() if k not in self.reshaped]

    def full_updates(self) -> list[AlertRecord]:
        return [r for k, r in self.updates.items() if k in self.reshaped]


_REPEAT_REASON = "same fingerprint while active"

COUNTER_FIELDS = ("last_seen", "updated_at", "occurrences", "ends_at", "ends_at_explicit")
"""What a repeat of an unchanged alert changes: a storm of repeats rewrites only these."""


def _new_record(send: NormalizedAlert, now: float) -> AlertRecord:
    resolved = send.action is SendAction.RESOLVE or (
        send.ends_at is not None and send.ends_at <= now
    )
    return AlertRecord(
        tenant_id=send.tenant_id,
        id=send.alert_id or new_alert_id(),
        fingerprint=send.fingerprint,
        status=RESOLVED if resolved else FIRING,
        severity=send.severity,
        title=send.title,
        description=send.description,
        source=send.source,
        labels=send.labels,
        annotations=send.annotations,
        starts_at=send.starts_at,
        ends_at=send.ends_at if send.ends_at is not None else (now if resolved else None),
        ends_at_explicit=send.ends_at_explicit,
        first_seen=now,
        last_seen=now,
        updated_at=now,
        occurrences=1,
        generator_url=send.generator_url,
        dedup_key=send.dedup_key,
        resolved_at=(send.ends_at or now) if resolved else None,
    )


def _content_differs(record: AlertRecord, send: NormalizedAlert) -> bool:
    return (
        record.labels != send.labels
        or record.annotations != send.annotations
        or record.title != send.title
        or record.description != send.description
        or record.severity != send.severity
        or (bool(send.generator_url) and record.generator_url != send.generator_url)
    )


def _expand(record: AlertRecord, repeat: UnchangedRepeat) -> NormalizedAlert:
    """The send an UnchangedRepeat stands for: the alert's content, the repeat's end."""
    return NormalizedAlert(
        tenant_id=record.tenant_id,
        fingerprint=record.fingerprint,
        source=record.source,
        title=record.title,
        description=record.description,
        severity=record.severity,
        labels=record.labels,
        annotations=record.annotations,
        starts_at=record.starts_at,
        ends_at=repeat.ends_at,
        ends_at_explicit=repeat.ends_at_explicit,
        received_at=record.last_seen,
        generator_url=record.generator_url,
        dedup_key=record.dedup_key,
    )


def _refresh_content(record: AlertRecord, send: NormalizedAlert, now: float) -> None:
    record.labels = send.labels
    record.annotations = send.annotations
    record.title = send.title
    record.description = send.description
    record.severity = send.severity
    record.generator_url = send.generator_url or record.generator_url
    record.last_seen = now
    record.updated_at = now


class _Applier:
    """Applies sends one by one to the current records, collecting the plan."""

    def __init__(
        self, existing: dict[Key, AlertRecord], now: float, digests: Mapping[Key, bytes] | None
    ) -> None:
        self.now = now
        self.records = existing
        self.digests = digests
        self.plan = BatchPlan()
        self.unchanged: list[PlannedSend] = []
        """The sends of the current request that repeated their alert unchanged."""
        self.given: PlannedSend | None = None
        """The send being applied, as it was given (packed or not)."""

    def _transition(self, rec: AlertRecord, old: str | None, reason: str, actor: str) -> None:
        self.plan.transitions.append(
            Transition(
                tenant_id=rec.tenant_id,
                alert_id=rec.id,
                at=self.now,
                from_status=old,
                to_status=rec.status,
                actor=actor,
                reason=reason,
            )
        )

    def apply(self, send: PlannedSend) -> IngestResult:
        self.given = send
        key = (send.tenant_id, send.fingerprint)
        rec = self.records.get(key)
        if isinstance(send, PackedSend):
            return self._packed(key, rec, send)
        if isinstance(send, UnchangedRepeat):
            if rec is None:  # cannot happen when replaying in order; never invent an alert
                return _ignored(send.fingerprint, "repeat of an unknown alert")
            return self._apply(key, rec, _expand(rec, send))
        if self.digests is not None:
            self.plan.digests[key] = None  # its content may change, its digest is unknown
        return self._apply(key, rec, send)

    def _digest(self, key: Key) -> bytes | None:
        known = self.plan.digests
        if key in known:
            return known[key]
        return None if self.digests is None else self.digests.get(key)

    def _packed(self, key: Key, rec: AlertRecord | None, send: PackedSend) -> IngestResult:
        now = self.now
        if (
            rec is not None
            and send.action is SendAction.FIRE
            and rec.status != RESOLVED
            and (rec.ends_at is None or rec.ends_at > now)
            and (send.ends_at is None or send.ends_at > now)
            and send.digest == self._digest(key)
        ):
            # The storm case, decided without unpacking: what _repeat does to an unchanged
            # alert, for the same reasons.
            if key not in self.plan.inserts:
                self.plan.updates[key] = rec
            send.labels, send.starts_at = rec.labels, rec.starts_at
            self.unchanged.append(send)
            return self._count_repeat(rec, send)
        full = send.unpack()
        result = self._apply(key, rec, full)
        send.labels, send.starts_at = full.labels, full.starts_at
        if result.outcome is IngestOutcome.CREATED:
            has_content = True  # made from this send
        else:
            now_rec = self.records.get(key)
            has_content = now_rec is not None and not _content_differs(now_rec, full)
        self.plan.digests[key] = send.digest if has_content else None
        return result

    def _apply(self, key: Key, rec: AlertRecord | None, send: NormalizedAlert) -> IngestResult:
        if rec is None:
            return self._create(key, send)
        plan, now = self.plan, self.now
        if key not in plan.inserts:
            plan.updates[key] = rec
        if rec.status != RESOLVED and rec.ends_at is not None and rec.ends_at <= now:
            plan.transitions.append(expire(rec, now))  # type: ignore[arg-type]
            plan.reshaped.add(key)
        if (
            send.action is SendAction.FIRE
            and rec.status != RESOLVED
            and (send.ends_at is None or send.ends_at > now)
        ):
            return self._repeat(rec, send, key)  # the storm case, kept short
        return self._merge(rec, send, key)

    def _repeat(self, rec: AlertRecord, send: NormalizedAlert, key: Key) -> IngestResult:
        """A firing send for an active alert: count it, refresh what changed."""
        if _content_differs(rec, send):
            self.plan.reshaped.add(key)
            _refresh_content(rec, send, self.now)
        else:
            assert self.given is not None
            self.unchanged.append(self.given)  # what the intake keeps is what it was given
        return self._count_repeat(rec, send)

    def _count_repeat(self, rec: AlertRecord, send: NormalizedAlert | PackedSend) -> IngestResult:
        rec.last_seen = rec.updated_at = self.now
        rec.ends_at, rec.ends_at_explicit = send.ends_at, send.ends_at_explicit
        rec.occurrences += 1
        return self._result(rec, IngestOutcome.DEDUPLICATED, _REPEAT_REASON)

    def _create(self, key: Key, send: NormalizedAlert) -> IngestResult:
        if send.action is SendAction.ACK:
            return _ignored(send.fingerprint, "acknowledge for an unknown alert")
        rec = _new_record(send, self.now)
        self.records[key] = rec
        self.plan.inserts[key] = rec
        self._transition(rec, None, f"created from {send.source}", SOURCE_ACTOR)
        return self._result(rec, IngestOutcome.CREATED, "new fingerprint")

    def _merge(self, rec: AlertRecord, send: NormalizedAlert, key: Key) -> IngestResult:
        now = self.now
        send_resolves = send.action is SendAction.RESOLVE or (
            send.ends_at is not None and send.ends_at <= now
        )
        if rec.status == RESOLVED:
            if send_resolves or send.action is SendAction.ACK:
                rec.last_seen = now
                return self._result(rec, IngestOutcome.DEDUPLICATED, "already resolved")
            self.plan.reshaped.add(key)
            _refresh_content(rec, send, now)
            rec.status, rec.starts_at = FIRING, send.starts_at
            rec.ends_at, rec.ends_at_explicit = send.ends_at, send.ends_at_explicit
            rec.resolved_at = rec.acked_by = rec.acked_at = None
            rec.occurrences += 1
            self._transition(rec, RESOLVED, f"re-fired by {send.source}", SOURCE_ACTOR)
            return self._result(rec, IngestOutcome.REFIRED, "fired again after resolve")
        if send_resolves:
            old = rec.status
            self.plan.reshaped.add(key)
            _refresh_content(rec, send, now)
            rec.status = RESOLVED
            rec.ends_at = send.ends_at if send.ends_at is not None else now
            rec.ends_at_explicit = True
            rec.resolved_at = rec.ends_at
            self._transition(rec, old, f"resolved by {send.source}", SOURCE_ACTOR)
            return self._result(rec, IngestOutcome.RESOLVED, "source sent a resolve")
        if send.action is SendAction.ACK:
            rec.last_seen = now
            if rec.status not in (FIRING, SUPPRESSED):
                return self._result(rec, IngestOutcome.DEDUPLICATED, "already acknowledged")
            old = rec.status
            self.plan.reshaped.add(key)
            rec.status, rec.acked_by, rec.acked_at = ACKNOWLEDGED, send.source, now
            rec.updated_at = now
            self._transition(rec, old, f"acknowledged by {send.source}", send.source)
            return self._result(rec, IngestOutcome.ACKNOWLEDGED, "source acknowledged")
        return self._repeat(rec, send, key)

    @staticmethod
    def _result(rec: AlertRecord, outcome: IngestOutcome, reason: str) -> IngestResult:
        return IngestResult(
            alert_id=rec.id,
            fingerprint=rec.fingerprint,
            outcome=outcome,
            status=rec.status,
            occurrences=rec.occurrences,
            reason=reason,
        )


def _ignored(fingerprint: str, reason: str) -> IngestResult:
    return IngestResult(
        alert_id="",
        fingerprint=fingerprint,
        outcome=IngestOutcome.IGNORED,
        status="",
        occurrences=0,
        reason=reason,
    )


def plan_batch(
    existing: dict[Key, AlertRecord],
    requests: Sequence[Sequence[PlannedSend]],
    now: float,
    digests: Mapping[Key, bytes] | None = None,
) -> BatchPlan:
    """Apply every send of every request, in order, to the current records.

    `existing` holds the stored records for the keys the sends touch (it is updated in place).
    Repeats of a fingerprint inside and across requests collapse into one row write.
    `digests` are the content digests of the current records as far as the caller knows
    them (see BatchPlan.digests); None when it does not track them, so every packed send
    is unpacked.
    """
    applier = _Applier(existing, now, digests)
    plan = applier.plan
    for sends in requests:
        applier.unchanged = []
        plan.results.append([applier.apply(send) for send in sends])
        plan.unchanged.append(applier.unchanged)
    return plan
