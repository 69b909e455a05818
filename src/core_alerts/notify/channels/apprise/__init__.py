"""The Apprise channel (`apprise_configs`): one message to any service Apprise supports.

Owns its config, default templates and the checks on each URL's host. Must not show an
Apprise URL anywhere (they carry tokens): messages name the URL's position and scheme only.
Apprise connects by itself; the host a URL names is checked against the outbound policy first.
"""

from __future__ import annotations

from core_alerts.notify.channels.apprise.channel import AppriseChannel
from core_alerts.notify.channels.apprise.config import AppriseConfig
from core_alerts.notify.channels.base import ChannelSpec

SPEC = ChannelSpec(
    config_key="apprise_configs",
    integration="apprise",
    description="Apprise: Telegram, Discord, Pushover, ntfy, Matrix and 100+ other services "
    "by URL.",
    config_type=AppriseConfig,
    build=AppriseChannel,
)

__all__ = ["SPEC", "AppriseChannel", "AppriseConfig"]
