"""Notification templates: Jinja2 in a capped sandbox, and the data every template sees.

Alert data is always data: it is passed as variables and escaped for the target, never
compiled as a template.
"""

from core_alerts.notify.templates.data import alert_data, notification_data
from core_alerts.notify.templates.engine import (
    MAX_OUTPUT,
    MAX_SECONDS,
    Escape,
    TemplateEngine,
    TemplateError,
)

__all__ = [
    "MAX_OUTPUT",
    "MAX_SECONDS",
    "Escape",
    "TemplateEngine",
    "TemplateError",
    "alert_data",
    "notification_data",
]
