"""The PagerDuty channel (`pagerduty_configs`): Events API v2 trigger and resolve events.

Owns the config, the event body and its delivery. Must not send through anything but
`send_http`, and does not speak the Events API v1.
"""

from __future__ import annotations

from core_alerts.notify.channels.base import ChannelSpec, from_global
from core_alerts.notify.channels.pagerduty.channel import PagerDutyChannel
from core_alerts.notify.channels.pagerduty.config import (
    PagerDutyConfig,
    PagerDutyImage,
    PagerDutyLink,
)

SPEC = ChannelSpec(
    config_key="pagerduty_configs",
    integration="pagerduty",
    description="PagerDuty Events API v2: triggers and resolves one alert per group.",
    config_type=PagerDutyConfig,
    build=PagerDutyChannel,
    defaults=from_global({"pagerduty_url": "url"}),
)

__all__ = ["SPEC", "PagerDutyChannel", "PagerDutyConfig", "PagerDutyImage", "PagerDutyLink"]
