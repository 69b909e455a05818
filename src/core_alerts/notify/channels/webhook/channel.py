"""WebhookChannel: one POST of Alertmanager's webhook payload per notification."""

from __future__ import annotations

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.http import post_json
from core_alerts.notify.channels.httpconfig import auth_headers
from core_alerts.notify.channels.sending import ConfiguredChannel
from core_alerts.notify.channels.webhook.config import WebhookConfig
from core_alerts.notify.channels.webhook.payload import webhook_message


class WebhookChannel(ConfiguredChannel[WebhookConfig]):
    """Sends to any receiver written for Alertmanager's webhook_configs."""

    async def _deliver(self, notification: Notification) -> None:
        body = webhook_message(
            notification,
            max_alerts=self._config.max_alerts,
            external_url=notification.external_url or self._ctx.external_url,
        )
        await post_json(
            self._ctx,
            self._config.url,
            body,
            key=notification.id,
            headers=auth_headers(self._config.http_config),
            timeout=self._config.timeout,
        )
