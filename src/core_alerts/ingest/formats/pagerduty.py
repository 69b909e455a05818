"""PagerDuty Events API v2 (`POST /v2/enqueue`): one event, a JSON object, per request.

Identity comes from `dedup_key`, so a trigger and its later acknowledge/resolve meet. A
trigger without one gets a fresh key, returned to the caller through NormalizedAlert.dedup_key.
"""

from __future__ import annotations

import uuid

import msgspec

from core_alerts.domain.alert import AlertSeverity
from core_alerts.domain.errors import ValidationFailed
from core_alerts.domain.ingest import NormalizedAlert, SendAction
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.formats.generic import parse_timestamp
from core_alerts.ingest.normalize import SourceContext, normalize

MAX_SUMMARY = 1024

_ACTIONS = {
    "trigger": SendAction.FIRE,
    "acknowledge": SendAction.ACK,
    "resolve": SendAction.RESOLVE,
}
_SEVERITIES = {
    "critical": AlertSeverity.CRITICAL,
    "error": AlertSeverity.HIGH,
    "warning": AlertSeverity.MEDIUM,
    "info": AlertSeverity.INFO,
}


class PagerDutyPayload(msgspec.Struct):
    # Optional fields may arrive as null from some clients, hence `| None`.
    summary: str | None = None
    source: str | None = None
    severity: str | None = None
    timestamp: str | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")
    custom_details: msgspec.Raw = msgspec.Raw()


class PagerDutyEvent(msgspec.Struct):
    routing_key: str | None = None
    event_action: str | None = None
    dedup_key: str | None = None
    payload: PagerDutyPayload | None = None
    client: str | None = None
    client_url: str | None = None


def _invalid(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, field=field, index=0)


def _check_payload(payload: PagerDutyPayload | None, trigger: bool) -> PagerDutyPayload:
    if payload is None:
        if trigger:
            raise _invalid("payload is required for trigger events", "payload")
        return PagerDutyPayload()
    if trigger:
        for name in ("summary", "source", "severity"):
            if not getattr(payload, name):
                raise _invalid(f"payload.{name} is required for trigger events", f"payload.{name}")
    if payload.summary and len(payload.summary) > MAX_SUMMARY:
        raise _invalid(
            f"payload.summary is {len(payload.summary)} characters; the limit is {MAX_SUMMARY}",
            "payload.summary",
        )
    if payload.severity is not None and payload.severity not in _SEVERITIES:
        raise _invalid(
            f"payload.severity is {payload.severity!r}; allowed: critical, error, warning, info",
            "payload.severity",
        )
    return payload


def decode_pagerduty(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
    event: PagerDutyEvent = decode_json(body, PagerDutyEvent)
    if not event.routing_key:
        raise _invalid("routing_key is required", "routing_key")
    action = _ACTIONS.get(event.event_action or "")
    if action is None:
        raise _invalid(
            f"event_action is {event.event_action!r}; allowed: trigger, acknowledge, resolve",
            "event_action",
        )
    trigger = action is SendAction.FIRE
    dedup_key = event.dedup_key
    if not dedup_key:
        if not trigger:
            raise _invalid(f"dedup_key is required for {event.event_action} events", "dedup_key")
        dedup_key = uuid.uuid4().hex
    payload = _check_payload(event.payload, trigger)
    labels = {
        name: value
        for name, value in (
            ("source", payload.source),
            ("component", payload.component),
            ("group", payload.group),
            ("class", payload.class_),
            ("severity", payload.severity),
        )
        if value
    } or {"dedup_key": dedup_key}
    annotations = {}
    if payload.custom_details and bytes(payload.custom_details) != b"null":
        annotations["custom_details"] = bytes(payload.custom_details).decode("utf-8", "replace")
    if event.client:
        annotations["client"] = event.client
    return [
        normalize(
            ctx,
            labels=labels,
            annotations=annotations,
            title=payload.summary or "",
            severity=_SEVERITIES[payload.severity] if payload.severity else None,
            # Only a trigger's timestamp is a start; PagerDuty ignores the payload otherwise.
            starts_at=parse_timestamp(payload.timestamp, "payload.timestamp", 0)
            if trigger
            else None,
            action=action,
            generator_url=event.client_url or "",
            dedup_key=dedup_key,
            index=0,
        )
    ]
