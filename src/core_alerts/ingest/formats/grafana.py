"""Grafana webhook contact points: unified alerting (8+) and the legacy dashboard alerts.

Unified alerting posts Alertmanager's webhook shape plus Grafana fields; its label names are
free-form (dots, spaces), so any non-empty name is accepted. Legacy alerting posts one rule.
"""

from __future__ import annotations

import msgspec

from core_alerts.domain.errors import ValidationFailed
from core_alerts.domain.ingest import NormalizedAlert, SendAction
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.formats.alertmanager_webhook import WebhookAlert, check_batch, webhook_send
from core_alerts.ingest.normalize import SourceContext, normalize

_LEGACY_STATES = frozenset({"alerting", "ok", "no_data", "paused", "pending"})


class GrafanaAlert(WebhookAlert):
    silenceURL: str = ""
    dashboardURL: str = ""
    panelURL: str = ""
    imageURL: str = ""
    valueString: str = ""


class GrafanaPayload(msgspec.Struct):
    """Both generations in one pass: `alerts` marks unified alerting, `ruleName` legacy."""

    alerts: list[GrafanaAlert] | None = None
    ruleName: str | None = None
    ruleId: int | None = None
    ruleUrl: str = ""
    state: str = ""
    message: str = ""
    tags: dict[str, str] = {}
    imageUrl: str = ""


def _unified(alerts: list[GrafanaAlert], ctx: SourceContext) -> list[NormalizedAlert]:
    check_batch(len(alerts), ctx)
    sends = []
    for i, alert in enumerate(alerts):
        annotations = dict(alert.annotations)
        # Links and the evaluated values help whoever triages; the sender's own annotations win.
        for key, value in (
            ("dashboardURL", alert.dashboardURL),
            ("panelURL", alert.panelURL),
            ("imageURL", alert.imageURL),
            ("silenceURL", alert.silenceURL),
            ("valueString", alert.valueString),
        ):
            if value and len(annotations) < ctx.limits.max_labels:
                annotations.setdefault(key, value)
        sends.append(webhook_send(alert, ctx, i, annotations))
    return sends


def _legacy(payload: GrafanaPayload, ctx: SourceContext) -> NormalizedAlert:
    if not payload.ruleName:
        raise ValidationFailed("ruleName must not be empty", field="ruleName", index=0)
    if payload.state not in _LEGACY_STATES:
        allowed = ", ".join(sorted(_LEGACY_STATES))
        raise ValidationFailed(
            f"state is {payload.state!r}; allowed: {allowed}", field="state", index=0
        )
    labels = {"alertname": payload.ruleName}
    if payload.ruleId is not None:
        labels["rule_id"] = str(payload.ruleId)
    labels.update(payload.tags)
    annotations = {"imageURL": payload.imageUrl} if payload.imageUrl else {}
    return normalize(
        ctx,
        labels=labels,
        annotations=annotations,
        # `title` is "[Alerting] name" and changes with the state; the rule name does not.
        title=payload.ruleName,
        description=payload.message,
        action=SendAction.RESOLVE if payload.state == "ok" else SendAction.FIRE,
        generator_url=payload.ruleUrl,
        index=0,
    )


def decode_grafana(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
    payload: GrafanaPayload = decode_json(body, GrafanaPayload)
    if payload.alerts is not None:
        return _unified(payload.alerts, ctx)
    if payload.ruleName is not None:
        return [_legacy(payload, ctx)]
    raise ValidationFailed(
        "expected a Grafana webhook: `alerts` (unified alerting) or `ruleName` (legacy alerting)",
        field="alerts",
    )
