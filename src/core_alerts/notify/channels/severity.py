"""The one severity that stands for a group, for receivers that rank a whole notification."""

from __future__ import annotations

from core_alerts.domain.alert import AlertSeverity, parse_severity
from core_alerts.domain.notification import Notification

_RANK = list(AlertSeverity)


def worst_severity(notification: Notification) -> AlertSeverity:
    """The most severe of the firing alerts (of all alerts once everything resolved);
    an unknown severity counts as medium."""
    alerts = notification.firing or list(notification.alerts)
    found = [parse_severity(a.severity, AlertSeverity.MEDIUM) for a in alerts]
    return min(found, key=_RANK.index, default=AlertSeverity.MEDIUM)
