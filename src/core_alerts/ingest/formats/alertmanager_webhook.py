"""Alertmanager's webhook notification (version "4"): forwarding from an Alertmanager receiver."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from core_alerts.domain.errors import LimitExceeded, ValidationFailed
from core_alerts.domain.ingest import NormalizedAlert, SendAction
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.formats.alertmanager import PostableAlert
from core_alerts.ingest.normalize import SourceContext, epoch, normalize

_STATUSES = ("firing", "resolved")


class WebhookAlert(PostableAlert):
    """One alert of a notification; `fingerprint` is Alertmanager's, equal to ours."""

    status: str = "firing"
    fingerprint: str = ""


class WebhookMessage(msgspec.Struct):
    # groupLabels, commonLabels ... repeat what the alerts carry, so they are not decoded.
    alerts: list[WebhookAlert]
    version: str = "4"
    status: str = ""
    receiver: str = ""


def check_batch(count: int, ctx: SourceContext) -> None:
    limit = ctx.limits.max_alerts_per_request
    if count > limit:
        raise LimitExceeded(f"the batch has {count} alerts; the limit is {limit}")


def webhook_send(
    alert: WebhookAlert,
    ctx: SourceContext,
    index: int,
    annotations: Mapping[str, str] | None = None,
) -> NormalizedAlert:
    """Normalize one notification alert; a resolved one resolves at its endsAt."""
    if alert.status not in _STATUSES:
        raise ValidationFailed(
            f"status is {alert.status!r}; allowed: firing, resolved", field="status", index=index
        )
    return normalize(
        ctx,
        labels=alert.labels,
        annotations=alert.annotations if annotations is None else annotations,
        starts_at=epoch(alert.startsAt, "startsAt", index),
        ends_at=epoch(alert.endsAt, "endsAt", index),
        action=SendAction.RESOLVE if alert.status == "resolved" else SendAction.FIRE,
        generator_url=alert.generatorURL,
        index=index,
    )


def decode_alertmanager_webhook(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
    message: WebhookMessage = decode_json(body, WebhookMessage)
    if message.version != "4":
        raise ValidationFailed(
            f"version is {message.version!r}; only Alertmanager webhook version 4 is supported",
            field="version",
        )
    check_batch(len(message.alerts), ctx)
    sends = []
    for i, alert in enumerate(message.alerts):
        # Alertmanager 0.27+ forwards UTF-8 label names, so any non-empty name is accepted.
        if not any(alert.labels.values()):  # empty values are dropped, as Alertmanager does
            raise ValidationFailed("at least one label pair required", field="labels", index=i)
        sends.append(webhook_send(alert, ctx, i))
    return sends
