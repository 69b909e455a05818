"""EmailChannel: one notification, one multipart message, one SMTP session."""

from __future__ import annotations

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import ChannelContext
from core_alerts.notify.channels.email.config import EmailConfig
from core_alerts.notify.channels.email.message import build_message
from core_alerts.notify.channels.email.session import deliver, tls_context
from core_alerts.notify.channels.sending import ConfiguredChannel


class EmailChannel(ConfiguredChannel[EmailConfig]):
    """Sends through the configured smarthost, checked against the outbound policy.

    Without a policy in the context the default one applies (public addresses only).
    """

    def __init__(self, config: EmailConfig, ctx: ChannelContext) -> None:
        super().__init__(config, ctx)
        self._policy = ctx.effective_policy
        self._tls = tls_context(config.tls_config)

    async def _deliver(self, notification: Notification) -> None:
        message = build_message(self._config, notification, self._ctx)
        await deliver(self._config, message, self._policy, self._tls)
