"""The Microsoft Teams channels: `msteams` (a MessageCard to an incoming webhook, Alertmanager
0.26) and `msteamsv2` (an Adaptive Card to a Power Automate workflow, Alertmanager 0.28).

One package with two specs, exported as `SPECS`. Must not open its own HTTP connections:
every request goes through `send_http`.
"""

from core_alerts.notify.channels.base import ChannelSpec
from core_alerts.notify.channels.httpconfig import global_http_config
from core_alerts.notify.channels.msteams.channel import MSTeamsChannel, MSTeamsV2Channel
from core_alerts.notify.channels.msteams.config import MSTeamsConfig, MSTeamsV2Config

MSTEAMS_SPEC = ChannelSpec(
    config_key="msteams_configs",
    integration="msteams",
    description="A MessageCard to a Microsoft Teams incoming webhook (Office 365 connector).",
    config_type=MSTeamsConfig,
    build=MSTeamsChannel,
    defaults=global_http_config,
)

MSTEAMSV2_SPEC = ChannelSpec(
    config_key="msteamsv2_configs",
    integration="msteamsv2",
    description="An Adaptive Card to a Microsoft Teams Power Automate workflow.",
    config_type=MSTeamsV2Config,
    build=MSTeamsV2Channel,
    defaults=global_http_config,
)

SPECS = (MSTEAMS_SPEC, MSTEAMSV2_SPEC)

__all__ = [
    "MSTEAMSV2_SPEC",
    "MSTEAMS_SPEC",
    "SPECS",
    "MSTeamsChannel",
    "MSTeamsConfig",
    "MSTeamsV2Channel",
    "MSTeamsV2Config",
]
