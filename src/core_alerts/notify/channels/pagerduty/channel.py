"""PagerDutyChannel: one Events API v2 event per notification, keyed by the group."""

from __future__ import annotations

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.http import post_json
from core_alerts.notify.channels.pagerduty.config import PagerDutyConfig
from core_alerts.notify.channels.pagerduty.event import build_event
from core_alerts.notify.channels.sending import ConfiguredChannel, Renderer


class PagerDutyChannel(ConfiguredChannel[PagerDutyConfig]):
    """Triggers, then resolves, one PagerDuty alert per group (`dedup_key` = group hash).

    PagerDuty answers 202; 429 and 5xx are worth retrying, 400 (a malformed event) is not.
    """

    async def _deliver(self, notification: Notification) -> None:
        # PagerDuty shows plain text: values are not escaped, only kept out of the template.
        render = Renderer.for_notification(self._ctx.templates, notification)
        await post_json(
            self._ctx,
            self._config.url,
            build_event(self._config, notification, render),
            key=notification.id,
            timeout=self._config.timeout,
        )
