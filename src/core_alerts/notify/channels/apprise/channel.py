"""AppriseChannel: render once, check every URL's host, hand the message to Apprise."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from apprise import Apprise, NotifyFormat, NotifyType
from apprise.plugins.base import NotifyBase

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.apprise import defaults
from core_alerts.notify.channels.apprise.config import AppriseConfig
from core_alerts.notify.channels.apprise.urls import asset, destination, instantiate, scheme_of
from core_alerts.notify.channels.base import ChannelContext, DeliveryFailed
from core_alerts.notify.channels.sending import ConfiguredChannel, Renderer
from core_alerts.notify.templates import Escape
from core_alerts.outbound import OutboundBlocked, OutboundFailed, admit_host

_ESCAPE: dict[str, Escape] = {"text": "none", "markdown": "markdown", "html": "html"}
_FORMAT = {"text": NotifyFormat.TEXT, "markdown": NotifyFormat.MARKDOWN, "html": NotifyFormat.HTML}
_REMEMBERED = 256
"""Notifications whose delivered URLs are remembered, so a retry skips those URLs."""


class _Failure(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class AppriseChannel(ConfiguredChannel[AppriseConfig]):
    """One Apprise delivery per URL; a failure names the URL's position and scheme only.

    Without a policy in the context the default one applies (public addresses only).
    """

    def __init__(self, config: AppriseConfig, ctx: ChannelContext) -> None:
        super().__init__(config, ctx)
        self._policy = ctx.effective_policy
        self._delivered: OrderedDict[str, set[int]] = OrderedDict()

    async def _deliver(self, notification: Notification) -> None:
        title, body = self._render(notification)
        kind = NotifyType.FAILURE if notification.status == "firing" else NotifyType.SUCCESS
        done = self._delivered.setdefault(notification.id, set())
        self._delivered.move_to_end(notification.id)
        while len(self._delivered) > _REMEMBERED:
            self._delivered.popitem(last=False)
        pending = [i for i in range(len(self._config.urls)) if i not in done]
        outcomes = await asyncio.gather(
            *(self._deliver_to(i, notification.id, title, body, kind) for i in pending),
            return_exceptions=True,
        )
        failures: list[_Failure] = []
        for index, outcome in zip(pending, outcomes, strict=True):
            if outcome is None:
                done.add(index)
            elif isinstance(outcome, _Failure):
                failures.append(outcome)
            else:
                raise outcome
        if failures:
            raise DeliveryFailed(
                "; ".join(str(f) for f in failures),
                retryable=any(f.retryable for f in failures),
            )

    def _render(self, notification: Notification) -> tuple[str, str]:
        render = Renderer.for_notification(self._ctx.templates, notification, prefix="template ")
        escape = _ESCAPE[self._config.body_format]
        body = self._config.body
        if body == defaults.BODY and self._config.body_format == "html":
            body = defaults.HTML_BODY
        return render(self._config.title, "title", escape), render(body, "body", escape)

    async def _deliver_to(
        self, index: int, key: str, title: str, body: str, kind: NotifyType
    ) -> None:
        where = f"urls[{index}] ({scheme_of(self._config.urls[index])}://)"
        plugin = await self._checked(index, where)
        headers = getattr(plugin, "headers", None)
        if isinstance(headers, dict):
            # json://, xml:// and form:// send custom headers: carry the idempotency key.
            headers["Idempotency-Key"] = key
        sender = Apprise(asset=asset())
        sender.add(plugin)
        try:
            async with asyncio.timeout(self._config.timeout):
                result = await sender.async_notify(
                    body=body,
                    title=title,
                    notify_type=kind,
                    body_format=_FORMAT[self._config.body_format],
                    timeout=self._config.timeout,
                )
        except TimeoutError:
            raise _Failure(
                f"{where}: no answer within {self._config.timeout:g}s", retryable=True
            ) from None
        if not result:
            raise _Failure(f"{where}: Apprise reported a failed delivery", retryable=True)

    async def _checked(self, index: int, where: str) -> NotifyBase:
        try:
            plugin = instantiate(self._config.urls[index], index)
        except ValueError as exc:
            raise _Failure(str(exc), retryable=False) from None
        target = destination(plugin)
        if target is None:
            return plugin
        try:
            await admit_host(*target, self._policy)
        except OutboundBlocked as exc:
            raise _Failure(f"{where}: refused: {exc.message}", retryable=False) from None
        except OutboundFailed as exc:
            raise _Failure(f"{where}: {exc.message}", retryable=exc.retryable) from None
        return plugin
