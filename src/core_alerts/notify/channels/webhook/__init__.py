"""The webhook channel: Alertmanager's webhook payload (version 4) POSTed to a URL.

Owns the payload shape. Must not open its own HTTP connections: every request goes through
`send_http`.
"""

from core_alerts.notify.channels.base import ChannelSpec
from core_alerts.notify.channels.httpconfig import global_http_config
from core_alerts.notify.channels.webhook.channel import WebhookChannel
from core_alerts.notify.channels.webhook.config import WebhookConfig

SPEC = ChannelSpec(
    config_key="webhook_configs",
    integration="webhook",
    description="POST Alertmanager's webhook JSON (version 4) to any HTTP endpoint.",
    config_type=WebhookConfig,
    build=WebhookChannel,
    defaults=global_http_config,
)

__all__ = ["SPEC", "WebhookChannel", "WebhookConfig"]
