"""The data a template sees: one notification, in the shape of Alertmanager's template data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core_alerts.domain.notification import Notification, NotifiedAlert


def _time(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def alert_data(alert: NotifiedAlert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": _time(alert.starts_at),
        "ends_at": _time(alert.ends_at),
        "generator_url": alert.generator_url,
        "fingerprint": alert.fingerprint,
        "alert_id": alert.alert_id,
        "severity": alert.severity,
        "title": alert.title,
        "description": alert.description,
    }


def notification_data(notification: Notification) -> dict[str, Any]:
    """Variables of a template: `receiver`, `status`, `alerts`, `firing`, `resolved`,
    `group_labels`, `common_labels`, `common_annotations`, `external_url`, `group_key`,
    `truncated_alerts`, `tenant_id` (see docs/templates.md)."""
    alerts = [alert_data(a) for a in notification.alerts]
    return {
        "receiver": notification.receiver,
        "status": notification.status,
        "alerts": alerts,
        "firing": [a for a in alerts if a["status"] == "firing"],
        "resolved": [a for a in alerts if a["status"] == "resolved"],
        "group_labels": dict(notification.group_labels),
        "common_labels": notification.common_labels,
        "common_annotations": notification.common_annotations,
        "external_url": notification.external_url,
        "group_key": notification.group_key,
        "truncated_alerts": notification.truncated_alerts,
        "tenant_id": notification.tenant_id,
    }
