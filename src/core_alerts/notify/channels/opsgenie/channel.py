"""OpsgenieChannel: one Opsgenie alert per group, created while firing, closed when resolved."""

from __future__ import annotations

from typing import Any

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import ChannelContext
from core_alerts.notify.channels.http import send_http
from core_alerts.notify.channels.opsgenie.alert import LIMITS, create_body
from core_alerts.notify.channels.opsgenie.config import OpsgenieConfig
from core_alerts.notify.channels.sending import ConfiguredChannel, Renderer
from core_alerts.notify.channels.text import truncate


class OpsgenieChannel(ConfiguredChannel[OpsgenieConfig]):
    """Alert API v2 with `alias` = the group hash, so one group is one Opsgenie alert.

    Opsgenie answers 202 (processing is asynchronous); 429 and 5xx are worth retrying.
    """

    def __init__(self, config: OpsgenieConfig, ctx: ChannelContext) -> None:
        super().__init__(config, ctx)
        self._base = config.api_url if config.api_url.endswith("/") else config.api_url + "/"

    async def _deliver(self, notification: Notification) -> None:
        # Opsgenie shows plain text: values are not escaped, only kept out of the template.
        render = Renderer.for_notification(self._ctx.templates, notification)
        alias = notification.group_hash
        by_alias = "?identifierType=alias"
        key = notification.id
        if notification.status == "resolved":
            source = truncate(render(self._config.source, "source"), LIMITS["source"])
            await self._call("POST", f"v2/alerts/{alias}/close{by_alias}", {"source": source}, key)
            return
        body = create_body(self._config, notification, render)
        await self._call("POST", "v2/alerts", body, key)
        if self._config.update_alerts:
            # Each request is its own operation: it gets its own key, derived from the id.
            message = {"message": body["message"]}
            description = {"description": body.get("description", "")}
            await self._call(
                "PUT", f"v2/alerts/{alias}/message{by_alias}", message, f"{key}:message"
            )
            await self._call(
                "PUT", f"v2/alerts/{alias}/description{by_alias}", description, f"{key}:description"
            )

    async def _call(self, method: str, path: str, body: dict[str, Any], key: str) -> None:
        await send_http(
            self._ctx,
            self._base + path,
            method=method,
            json=body,
            headers={"Authorization": f"GenieKey {self._config.api_key}", "Idempotency-Key": key},
            timeout=self._config.timeout,
        )
