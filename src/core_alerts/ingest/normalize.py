"""Validation and normalization shared by every source format.

Every format decodes its payload (msgspec, straight from bytes) and calls `normalize` once per
alert. Validation is complete here: a send that passes can be stored on every backend.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core_alerts.config import LimitSettings
from core_alerts.domain import ValidationFailed
from core_alerts.domain.alert import AlertSeverity, parse_severity
from core_alerts.domain.fingerprint import fingerprint_labels, identity_labels
from core_alerts.domain.ingest import NormalizedAlert, SendAction
from core_alerts.ingest.privacy import Anonymiser

_GO_ZERO_YEAR = 1
MAX_DEDUP_KEY = 255
MAX_ID = 128
FIELD_NAMES = ("startsAt", "endsAt", "generatorURL")
"""How Alertmanager names a send's start, end and source link (the default in errors)."""


@dataclass(frozen=True, slots=True)
class SourceContext:
    """Where a batch came from and the rules to apply to it."""

    tenant_id: str
    source: str
    received_at: float
    limits: LimitSettings
    resolve_timeout: float | None
    """Seconds until an alert without an end resolves; None keeps it open."""
    anonymiser: Anonymiser | None = None
    """Rewrites personal data (privacy settings of the tenant) before anything is kept."""


def clean_text(value: str, field: str, max_len: int, index: int | None, *, nfc: bool = True) -> str:
    """Reject what no backend can store (NUL, lone surrogates); NFC-normalize display text."""
    if len(value) > max_len:
        raise ValidationFailed(
            f"{field} is {len(value)} characters; the limit is {max_len}", field=field, index=index
        )
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character", field=field, index=index)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed(
            f"{field} contains an unpaired surrogate (invalid Unicode)", field=field, index=index
        ) from None
    if not nfc or value.isascii():
        return value
    return unicodedata.normalize("NFC", value)


def clean_pairs(
    pairs: Mapping[str, str], kind: str, value_limit: int, ctx: SourceContext, index: int | None
) -> dict[str, str]:
    limits = ctx.limits
    if len(pairs) > limits.max_labels:
        raise ValidationFailed(
            f"{kind} has {len(pairs)} entries; the limit is {limits.max_labels}",
            field=kind,
            index=index,
        )
    # Label bytes are kept exactly as sent: the fingerprint must equal Alertmanager's, which
    # hashes raw bytes. Empty values are dropped, as Alertmanager does: empty means absent.
    is_labels = kind == "labels"
    out: dict[str, str] = {}
    for name, value in pairs.items():
        if not name:
            raise ValidationFailed(f"{kind} has an empty name", field=kind, index=index)
        key = clean_text(name, f"{kind} name", limits.max_label_name_length, index, nfc=False)
        if is_labels and not value:
            continue
        out[key] = clean_text(value, f"{kind}.{key}", value_limit, index, nfc=not is_labels)
    return out


def epoch(value: datetime | None, field: str, index: int | None) -> float | None:
    """Seconds since the epoch; Go's zero time (year 1) means unset, as in Alertmanager."""
    if value is None or value.year == _GO_ZERO_YEAR:
        return None
    if value.tzinfo is None:
        raise ValidationFailed(
            f"{field} has no time zone; use RFC 3339 with Z or an offset", field=field, index=index
        )
    return value.timestamp()


def normalize(
    ctx: SourceContext,
    *,
    labels: Mapping[str, str],
    annotations: Mapping[str, str] | None = None,
    title: str = "",
    description: str = "",
    severity: str | AlertSeverity | None = None,
    strict_severity: bool = False,
    starts_at: float | None = None,
    ends_at: float | None = None,
    action: SendAction = SendAction.FIRE,
    generator_url: str = "",
    dedup_key: str | None = None,
    alert_id: str | None = None,
    index: int | None = None,
    field_names: tuple[str, str, str] = FIELD_NAMES,
    prevalidated: bool = False,
) -> NormalizedAlert:
    """Validate one alert and compute its fingerprint. Raises ValidationFailed naming the field.

    `prevalidated`: the decoder already enforced the limits on labels, annotations and the
    generator URL, and the text came from strict JSON without NUL (see formats._json), so
    only the rules that need the whole alert run here. This is the hot path of a storm.
    """
    limits = ctx.limits
    if prevalidated:  # the decoder's own fresh dicts: no copies needed
        clean_labels = labels if isinstance(labels, dict) else dict(labels)
        if "" in clean_labels.values():
            clean_labels = {k: v for k, v in clean_labels.items() if v}
        clean_annotations = (
            annotations if isinstance(annotations, dict) else dict(annotations or {})
        )
    else:
        clean_labels = clean_pairs(labels, "labels", limits.max_label_value_length, ctx, index)
        clean_annotations = clean_pairs(
            annotations or {}, "annotations", limits.max_annotation_value_length, ctx, index
        )
        title = clean_text(title, "title", limits.max_text_length, index)
        description = clean_text(description, "description", limits.max_text_length, index)
        generator_url = clean_text(generator_url, field_names[2], 4096, index)
    if ctx.anonymiser is not None:
        clean_labels, clean_annotations, title, description = _anonymise(
            ctx.anonymiser, clean_labels, clean_annotations, title, description
        )
    if not title:
        title = clean_annotations.get("summary") or clean_labels.get("alertname", "")
    if not clean_labels:
        if not title:
            raise ValidationFailed("an alert needs labels or a title", field="labels", index=index)
        clean_labels = {"alertname": title}
    if dedup_key is not None:
        if not dedup_key or len(dedup_key) > MAX_DEDUP_KEY:
            raise ValidationFailed(
                f"dedup_key must be 1 to {MAX_DEDUP_KEY} characters", field="dedup_key", index=index
            )
        dedup_key = clean_text(dedup_key, "dedup_key", MAX_DEDUP_KEY, index)
    sev = _severity(severity, clean_labels, strict_severity, index)
    start, ends_at, explicit = send_times(ctx, starts_at, ends_at, action, field_names, index)
    ident = identity_labels(clean_labels, dedup_key)
    if alert_id is not None and (not alert_id or len(alert_id) > MAX_ID):
        raise ValidationFailed(f"alert_id must be 1 to {MAX_ID} characters", field="alert_id")
    return NormalizedAlert(
        tenant_id=ctx.tenant_id,
        fingerprint=fingerprint_labels(ident),
        alert_id=alert_id,
        source=ctx.source,
        title=title,
        description=description or clean_annotations.get("description", ""),
        severity=sev.value,
        labels=clean_labels,
        annotations=clean_annotations,
        starts_at=start,
        ends_at=ends_at,
        ends_at_explicit=explicit,
        received_at=ctx.received_at,
        action=action,
        generator_url=generator_url,
        dedup_key=dedup_key,
    )


def send_times(
    ctx: SourceContext,
    starts_at: float | None,
    ends_at: float | None,
    action: SendAction,
    field_names: tuple[str, str, str],
    index: int | None,
) -> tuple[float, float | None, bool]:
    """A send's start, end and whether its sender gave the end, checked against each other.

    Without a start the send starts when it was received; without an end it resolves
    `resolve_timeout` after that (a resolve ends it then), as in Alertmanager."""
    now = ctx.received_at
    start = starts_at if starts_at is not None else now
    explicit = ends_at is not None
    if ends_at is not None and ends_at < start:
        start_name, end_name, _ = field_names
        raise ValidationFailed(
            f"{end_name} is before {start_name} (start time must be before end time)",
            field=end_name,
            index=index,
        )
    if action is SendAction.RESOLVE and ends_at is None:
        ends_at, explicit = now, True
    elif ends_at is None and ctx.resolve_timeout:
        ends_at = now + ctx.resolve_timeout
    return start, ends_at, explicit


def _anonymise(
    anon: Anonymiser,
    labels: dict[str, str],
    annotations: dict[str, str],
    title: str,
    description: str,
) -> tuple[dict[str, str], dict[str, str], str, str]:
    fields = anon.fields
    return (
        anon.pairs(labels) if "labels" in fields else labels,
        anon.pairs(annotations) if "annotations" in fields else annotations,
        anon.text(title) if "title" in fields else title,
        anon.text(description) if "description" in fields else description,
    )


def _severity(
    given: str | AlertSeverity | None,
    labels: Mapping[str, str],
    strict: bool,
    index: int | None,
) -> AlertSeverity:
    if isinstance(given, AlertSeverity):
        return given
    if given:
        try:
            return parse_severity(given, None if strict else AlertSeverity.MEDIUM)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="severity", index=index) from None
    return parse_severity(labels.get("severity"), AlertSeverity.MEDIUM)
