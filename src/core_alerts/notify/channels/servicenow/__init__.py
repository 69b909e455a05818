"""The ServiceNow channel (`servicenow_configs`): incidents through the Table API.

Owns the config, the record columns and the Table API calls. Must not send through anything
but `send_http`; it writes only the table it is configured for.
"""

from __future__ import annotations

from core_alerts.notify.channels.base import ChannelSpec
from core_alerts.notify.channels.servicenow.channel import ServiceNowChannel
from core_alerts.notify.channels.servicenow.config import ServiceNowConfig

SPEC = ChannelSpec(
    config_key="servicenow_configs",
    integration="servicenow",
    description="ServiceNow Table API: one incident per group, updated and resolved with it.",
    config_type=ServiceNowConfig,
    build=ServiceNowChannel,
)

__all__ = ["SPEC", "ServiceNowChannel", "ServiceNowConfig"]
