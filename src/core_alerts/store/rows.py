"""Row layout shared by the SQL backends: column order and row <-> record conversion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from core_alerts.domain.record import AlertRecord, Decision, Transition

ALERT_COLUMNS = (
    "seq, tenant_id, id, fingerprint, status, severity, title, description, source, labels, "
    "annotations, starts_at, ends_at, ends_at_explicit, first_seen, last_seen, updated_at, "
    "occurrences, generator_url, dedup_key, acked_by, acked_at, resolved_at"
)
INSERT_COLUMNS = ALERT_COLUMNS.removeprefix("seq, ")
UPDATE_COLUMNS = (
    "status, severity, title, description, labels, annotations, starts_at, ends_at, "
    "ends_at_explicit, last_seen, updated_at, occurrences, generator_url, acked_by, acked_at, "
    "resolved_at"
)
HISTORY_COLUMNS = "tenant_id, alert_id, at, from_status, to_status, actor, reason, comment"
DECISION_COLUMNS = "tenant_id, alert_id, at, stage, decision, reason, details"

_encode = msgspec.json.Encoder().encode
_decode_pairs = msgspec.json.Decoder(dict[str, str]).decode
_decode_obj = msgspec.json.Decoder(dict[str, Any]).decode


def encode_json(value: object) -> str:
    return _encode(value).decode()


def record_from_row(row: Sequence[Any]) -> AlertRecord:
    (seq, tenant_id, id_, fp, status, sev, title, desc, source, labels, annotations, starts_at,
     ends_at, explicit, first_seen, last_seen, updated_at, occurrences, gen_url, dedup_key,
     acked_by, acked_at, resolved_at) = row  # fmt: skip
    return AlertRecord(
        seq=seq,
        tenant_id=tenant_id,
        id=id_,
        fingerprint=fp,
        status=status,
        severity=sev,
        title=title,
        description=desc,
        source=source,
        labels=_decode_pairs(labels),
        annotations=_decode_pairs(annotations),
        starts_at=starts_at,
        ends_at=ends_at,
        ends_at_explicit=bool(explicit),
        first_seen=first_seen,
        last_seen=last_seen,
        updated_at=updated_at,
        occurrences=occurrences,
        generator_url=gen_url,
        dedup_key=dedup_key,
        acked_by=acked_by,
        acked_at=acked_at,
        resolved_at=resolved_at,
    )


def insert_params(r: AlertRecord) -> tuple[Any, ...]:
    return (
        r.tenant_id, r.id, r.fingerprint, r.status, r.severity, r.title, r.description,
        r.source, encode_json(r.labels), encode_json(r.annotations), r.starts_at, r.ends_at,
        r.ends_at_explicit, r.first_seen, r.last_seen, r.updated_at, r.occurrences,
        r.generator_url, r.dedup_key, r.acked_by, r.acked_at, r.resolved_at,
    )  # fmt: skip


def update_params(r: AlertRecord) -> tuple[Any, ...]:
    """UPDATE_COLUMNS values followed by the row's seq."""
    return (
        r.status, r.severity, r.title, r.description, encode_json(r.labels),
        encode_json(r.annotations), r.starts_at, r.ends_at, r.ends_at_explicit, r.last_seen,
        r.updated_at, r.occurrences, r.generator_url, r.acked_by, r.acked_at, r.resolved_at,
        r.seq,
    )  # fmt: skip


def counter_params(r: AlertRecord) -> tuple[Any, ...]:
    """COUNTER_FIELDS values followed by the row's seq (see domain.lifecycle)."""
    return (r.last_seen, r.updated_at, r.occurrences, r.ends_at, r.ends_at_explicit, r.seq)


def history_params(t: Transition) -> tuple[Any, ...]:
    return (t.tenant_id, t.alert_id, t.at, t.from_status, t.to_status, t.actor, t.reason,
            t.comment)  # fmt: skip


def transition_from_row(row: Sequence[Any]) -> Transition:
    tenant_id, alert_id, at, from_status, to_status, actor, reason, comment = row
    return Transition(
        tenant_id=tenant_id, alert_id=alert_id, at=at, from_status=from_status,
        to_status=to_status, actor=actor, reason=reason, comment=comment,
    )  # fmt: skip


def decision_params(d: Decision) -> tuple[Any, ...]:
    return (d.tenant_id, d.alert_id, d.at, d.stage, d.decision, d.reason,
            encode_json(d.details))  # fmt: skip


def decision_from_row(row: Sequence[Any]) -> Decision:
    tenant_id, alert_id, at, stage, decision, reason, details = row
    return Decision(
        tenant_id=tenant_id, alert_id=alert_id, at=at, stage=stage, decision=decision,
        reason=reason, details=_decode_obj(details) if isinstance(details, str | bytes)
        else dict(details),
    )  # fmt: skip
