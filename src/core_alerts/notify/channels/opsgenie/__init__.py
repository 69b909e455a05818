"""The Opsgenie channel (`opsgenie_configs`): Alert API v2 create, update and close.

Owns the config, the request bodies and their delivery. Must not send through anything but
`send_http`, and does not read keys from files (`api_key_file` is not supported).
"""

from __future__ import annotations

from core_alerts.notify.channels.base import ChannelSpec, from_global
from core_alerts.notify.channels.opsgenie.channel import OpsgenieChannel
from core_alerts.notify.channels.opsgenie.config import OpsgenieConfig, OpsgenieResponder

SPEC = ChannelSpec(
    config_key="opsgenie_configs",
    integration="opsgenie",
    description="Opsgenie Alert API v2: one alert per group, closed when the group resolves.",
    config_type=OpsgenieConfig,
    build=OpsgenieChannel,
    defaults=from_global({"opsgenie_api_key": "api_key", "opsgenie_api_url": "api_url"}),
)

__all__ = ["SPEC", "OpsgenieChannel", "OpsgenieConfig", "OpsgenieResponder"]
