"""What the channels' `send` methods share: skipping a resolved group when `send_resolved` is
off, and rendering templates over `notification_data()` with a failing template made a
permanent DeliveryFailed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, Protocol, TypeVar

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import ChannelConfig, ChannelContext, DeliveryFailed
from core_alerts.notify.templates import Escape, TemplateEngine, TemplateError, notification_data

ConfigT = TypeVar("ConfigT", bound=ChannelConfig)


class Render(Protocol):
    """Renders one template source of the notification being sent; `field` names it in errors."""

    def __call__(self, source: str, field: str, escape: Escape = "none") -> str: ...


class Renderer:
    """One notification's template data, rendered for one channel.

    A template that fails raises DeliveryFailed(retryable=False): trying again renders the
    same data the same way. The message is `<prefix><field>: <cause>`.
    """

    def __init__(self, templates: TemplateEngine, data: dict[str, Any], prefix: str = "") -> None:
        self._templates = templates
        self._data = data
        self._prefix = prefix

    @classmethod
    def for_notification(
        cls,
        templates: TemplateEngine,
        notification: Notification,
        *,
        prefix: str = "",
        external_url: str = "",
    ) -> Renderer:
        """Over `notification_data(notification)`; `external_url` stands in for the
        notification's own when that is empty."""
        data = notification_data(notification)
        if not data["external_url"]:
            data["external_url"] = external_url
        return cls(templates, data, prefix)

    def __call__(self, source: str, field: str, escape: Escape = "none") -> str:
        if not source:
            return ""
        try:
            return self._templates.render(source, self._data, escape=escape)
        except TemplateError as exc:
            raise DeliveryFailed(f"{self._prefix}{field}: {exc.message}", retryable=False) from None


class ConfiguredChannel(ABC, Generic[ConfigT]):
    """A channel built from one validated config and the context, as every channel is.

    `send` drops a group that has resolved entirely when `send_resolved` is off and hands
    everything else to `_deliver`.
    """

    def __init__(self, config: ConfigT, ctx: ChannelContext) -> None:
        self._config = config
        self._ctx = ctx
        self.send_resolved = config.send_resolved

    async def send(self, notification: Notification) -> None:
        """Deliver once, or raise DeliveryFailed. `notification.id` is the idempotency key."""
        if notification.status == "resolved" and not self.send_resolved:
            return
        await self._deliver(notification)

    @abstractmethod
    async def _deliver(self, notification: Notification) -> None:
        """Send the notification once; each channel says how."""
