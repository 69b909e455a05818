"""MSTeamsChannel (MessageCard) and MSTeamsV2Channel (Adaptive Card for Power Automate)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, TypeVar

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.http import post_json
from core_alerts.notify.channels.httpconfig import auth_headers
from core_alerts.notify.channels.msteams.cards import adaptive_card_message, message_card
from core_alerts.notify.channels.msteams.config import MSTeamsConfig, MSTeamsV2Config
from core_alerts.notify.channels.sending import ConfiguredChannel, Render, Renderer

TeamsConfigT = TypeVar("TeamsConfigT", MSTeamsConfig, MSTeamsV2Config)


class _TeamsChannel(ConfiguredChannel[TeamsConfigT]):
    """What both Teams channels share: rendering and the POST."""

    _name = "msteams"

    async def _deliver(self, notification: Notification) -> None:
        render = Renderer.for_notification(
            self._ctx.templates,
            notification,
            prefix=f"{self._name} ",
            external_url=self._ctx.external_url,
        )
        await post_json(
            self._ctx,
            self._config.webhook_url,
            self._payload(render, notification.status),
            key=notification.id,
            headers=auth_headers(self._config.http_config),
            timeout=self._config.timeout,
        )

    @abstractmethod
    def _payload(self, render: Render, status: str) -> dict[str, Any]:
        """The message body this kind of card takes."""


class MSTeamsChannel(_TeamsChannel[MSTeamsConfig]):
    """Alertmanager's `msteams_configs`: a MessageCard to an incoming webhook."""

    def _payload(self, render: Render, status: str) -> dict[str, Any]:
        return message_card(
            title=render(self._config.title, "title", "markdown"),
            summary=render(self._config.summary, "summary", "none"),
            text=render(self._config.text, "text", "markdown"),
            status=status,
        )


class MSTeamsV2Channel(_TeamsChannel[MSTeamsV2Config]):
    """Alertmanager's `msteamsv2_configs`: an Adaptive Card to a Power Automate workflow."""

    _name = "msteamsv2"

    def _payload(self, render: Render, status: str) -> dict[str, Any]:
        return adaptive_card_message(
            title=render(self._config.title, "title", "markdown"),
            text=render(self._config.text, "text", "markdown"),
            status=status,
        )
