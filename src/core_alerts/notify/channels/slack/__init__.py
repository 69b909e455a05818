"""The Slack channel: Alertmanager's attachment message to an incoming webhook or to
chat.postMessage with a bot token.

Owns the message shape, its default templates and Slack's error answers. Must not open its
own HTTP connections (every request goes through `send_http`) nor compile alert data.
"""

from core_alerts.notify.channels.base import ChannelSpec
from core_alerts.notify.channels.slack.channel import SlackChannel
from core_alerts.notify.channels.slack.config import SlackConfig, slack_defaults

SPEC = ChannelSpec(
    config_key="slack_configs",
    integration="slack",
    description="A Slack message (one attachment) via an incoming webhook or chat.postMessage.",
    config_type=SlackConfig,
    build=SlackChannel,
    defaults=slack_defaults,
)

__all__ = ["SPEC", "SlackChannel", "SlackConfig"]
