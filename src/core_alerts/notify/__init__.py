"""NotificationHub: receivers and their channels, templates, the notification log, and
delivery through a durable outbox with retries, rate limits and dead letters.

Takes group flushes from the dispatcher (routing) as domain values; it does not route,
group or decide timing, and it reaches the outside only through the outbound client.
"""

from core_alerts.notify.channels import (
    SECRET_PLACEHOLDER,
    Channel,
    ChannelConfig,
    ChannelContext,
    ChannelSpec,
    DeliveryFailed,
    channel_specs,
)
from core_alerts.notify.dedup import needs_notify
from core_alerts.notify.delivery import DeliveryPolicy, DeliveryWorker
from core_alerts.notify.hub import NotificationHub
from core_alerts.notify.receivers import (
    Integration,
    IntegrationConfig,
    build_integrations,
    parse_receiver,
)
from core_alerts.notify.secrets import redact, restore
from core_alerts.notify.templates import TemplateEngine, TemplateError, notification_data

__all__ = [
    "SECRET_PLACEHOLDER",
    "Channel",
    "ChannelConfig",
    "ChannelContext",
    "ChannelSpec",
    "DeliveryFailed",
    "DeliveryPolicy",
    "DeliveryWorker",
    "Integration",
    "IntegrationConfig",
    "NotificationHub",
    "TemplateEngine",
    "TemplateError",
    "build_integrations",
    "channel_specs",
    "needs_notify",
    "notification_data",
    "parse_receiver",
    "redact",
    "restore",
]
