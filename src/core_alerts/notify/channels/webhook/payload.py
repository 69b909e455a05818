"""Alertmanager's webhook message (version 4), field for field, so existing receivers work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core_alerts.domain.notification import Notification, NotifiedAlert

ZERO_TIME = "0001-01-01T00:00:00Z"
"""How Go writes an unset time; receivers test for it to tell a firing alert."""


def rfc3339(epoch: float | None) -> str:
    """Go's RFC 3339 with nanoseconds as Alertmanager writes times: UTC, `Z`, no trailing
    zeros in the fraction."""
    if epoch is None:
        return ZERO_TIME
    moment = datetime.fromtimestamp(epoch, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def _alert(alert: NotifiedAlert) -> dict[str, Any]:
    # Alertmanager hides the end of an alert that still fires.
    ends_at = alert.ends_at if alert.status == "resolved" else None
    return {
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": rfc3339(alert.starts_at),
        "endsAt": rfc3339(ends_at),
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def webhook_message(
    notification: Notification, *, max_alerts: int, external_url: str
) -> dict[str, Any]:
    """The JSON body. Status and common labels cover every alert; `alerts` holds at most
    `max_alerts` (0: all) and `truncatedAlerts` counts the rest, including any the delivery
    layer already left out."""
    alerts = list(notification.alerts)
    truncated = notification.truncated_alerts
    if 0 < max_alerts < len(alerts):
        truncated += len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    return {
        "receiver": notification.receiver,
        "status": notification.status,
        "alerts": [_alert(a) for a in alerts],
        "groupLabels": dict(notification.group_labels),
        "commonLabels": notification.common_labels,
        "commonAnnotations": notification.common_annotations,
        "externalURL": external_url,
        "version": "4",
        "groupKey": notification.group_key,
        "truncatedAlerts": truncated,
    }
