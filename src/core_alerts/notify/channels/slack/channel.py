"""SlackChannel: one attachment message per notification, and Slack's 200-with-error answers."""

from __future__ import annotations

import json
from typing import Any

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import DeliveryFailed
from core_alerts.notify.channels.http import post_json
from core_alerts.notify.channels.sending import ConfiguredChannel, Renderer
from core_alerts.notify.channels.slack.config import SlackConfig
from core_alerts.notify.channels.slack.message import slack_message
from core_alerts.outbound import OutboundResponse, parse_retry_after

# Web API errors that say "not now" rather than "this request is wrong".
RETRYABLE_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
)


class SlackChannel(ConfiguredChannel[SlackConfig]):
    """Posts to an incoming webhook or, with a bot token, to chat.postMessage."""

    async def _deliver(self, notification: Notification) -> None:
        render = Renderer.for_notification(
            self._ctx.templates,
            notification,
            prefix="slack ",
            external_url=self._ctx.external_url,
        )
        response = await post_json(
            self._ctx,
            self._config.api_url,
            slack_message(self._config, render),
            key=notification.id,
            headers=self._config.auth_headers(),
            timeout=self._config.timeout,
        )
        self._check(response)

    def _check(self, response: OutboundResponse) -> None:
        """Slack answers 200 to some failures: `{"ok": false}` (Web API) or a text other than
        `ok` (incoming webhooks)."""
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("application/json"):
            text = response.text.strip()
            if text and text != "ok":
                raise DeliveryFailed(
                    f"Slack answered {response.status}: {text[:200]}",
                    retryable=False,
                    status=response.status,
                )
            return
        try:
            answer: Any = json.loads(response.body)
        except ValueError:
            raise DeliveryFailed(
                f"Slack answered {response.status} with JSON that does not parse",
                retryable=True,
                status=response.status,
            ) from None
        if isinstance(answer, dict) and answer.get("ok") is False:
            error = str(answer.get("error") or "unknown error")
            retryable = error in RETRYABLE_ERRORS
            retry_after = None
            if retryable:
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), self._ctx.clock.now()
                )
            raise DeliveryFailed(
                f"Slack answered {response.status} with error {error!r}",
                retryable=retryable,
                retry_after=retry_after,
                status=response.status,
            )
