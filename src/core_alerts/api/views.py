"""Response bodies (msgspec Structs, encoded without pydantic) and their JSON Schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from core_alerts.domain.ingest import IngestResult
from core_alerts.domain.record import AlertRecord, Transition
from core_alerts.ingest import Explanation


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AlertView(msgspec.Struct, kw_only=True):
    id: str
    fingerprint: str
    status: str
    severity: str
    title: str
    description: str
    source: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str | None
    first_seen: str
    last_seen: str
    updated_at: str
    occurrences: int
    generator_url: str
    dedup_key: str | None
    acked_by: str | None
    acked_at: str | None
    resolved_at: str | None


class TransitionView(msgspec.Struct, kw_only=True):
    at: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    comment: str


class AlertDetailView(AlertView, kw_only=True):
    history: list[TransitionView]


class AlertListView(msgspec.Struct, kw_only=True):
    items: list[AlertView]
    next_cursor: str | None


class IngestResultView(msgspec.Struct, kw_only=True):
    alert_id: str | None
    """None when the send was ignored (an acknowledge for an unknown alert)."""
    fingerprint: str
    outcome: str
    status: str | None
    occurrences: int
    reason: str


class IngestResponse(msgspec.Struct, kw_only=True):
    accepted: int
    results: list[IngestResultView]


def alert_view(rec: AlertRecord, now: float) -> AlertView:
    return AlertView(
        id=rec.id,
        fingerprint=rec.fingerprint,
        status=rec.effective_status(now),
        severity=rec.severity,
        title=rec.title,
        description=rec.description,
        source=rec.source,
        labels=dict(sorted(rec.labels.items())),
        annotations=dict(sorted(rec.annotations.items())),
        starts_at=iso(rec.starts_at) or "",
        ends_at=iso(rec.ends_at),
        first_seen=iso(rec.first_seen) or "",
        last_seen=iso(rec.last_seen) or "",
        updated_at=iso(rec.updated_at) or "",
        occurrences=rec.occurrences,
        generator_url=rec.generator_url,
        dedup_key=rec.dedup_key,
        acked_by=rec.acked_by,
        acked_at=iso(rec.acked_at),
        resolved_at=iso(rec.resolved_at),
    )


def transition_view(t: Transition) -> TransitionView:
    return TransitionView(
        at=iso(t.at) or "",
        from_status=t.from_status,
        to_status=t.to_status,
        actor=t.actor,
        reason=t.reason,
        comment=t.comment,
    )


def detail_view(rec: AlertRecord, history: list[Transition], now: float) -> AlertDetailView:
    base = alert_view(rec, now)
    fields = {f: getattr(base, f) for f in base.__struct_fields__}
    return AlertDetailView(**fields, history=[transition_view(t) for t in history])


class DecisionView(msgspec.Struct, kw_only=True):
    at: str
    stage: str
    decision: str
    reason: str
    details: dict[str, Any]


class DeduplicationView(msgspec.Struct, kw_only=True):
    occurrences: int
    merged_sends: int
    first_seen: str
    last_seen: str
    reason: str


class ExplanationView(msgspec.Struct, kw_only=True):
    alert_id: str
    fingerprint: dict[str, Any]
    deduplication: DeduplicationView
    transitions: list[TransitionView]
    decisions: list[DecisionView]


def explanation_view(ex: Explanation) -> ExplanationView:
    rec = ex.record
    return ExplanationView(
        alert_id=rec.id,
        fingerprint=ex.fingerprint,
        deduplication=DeduplicationView(
            occurrences=rec.occurrences,
            merged_sends=rec.occurrences - 1,
            first_seen=iso(rec.first_seen) or "",
            last_seen=iso(rec.last_seen) or "",
            reason=ex.dedup_reason,
        ),
        transitions=[transition_view(t) for t in ex.transitions],
        decisions=[
            DecisionView(
                at=iso(d.at) or "", stage=d.stage, decision=d.decision, reason=d.reason,
                details=d.details,
            )
            for d in ex.decisions
        ],
    )  # fmt: skip


def ingest_response(results: list[IngestResult]) -> IngestResponse:
    return IngestResponse(
        accepted=len(results),
        results=[
            IngestResultView(
                alert_id=r.alert_id or None,
                fingerprint=r.fingerprint,
                outcome=r.outcome.value,
                status=r.status or None,
                occurrences=r.occurrences,
                reason=r.reason,
            )
            for r in results
        ],
    )
