"""Channels: one small package per integration type, all behind the Channel Protocol.

Each package exports `SPEC` (or `SPECS`): its `*_configs` key, validated config type and
builder. Channels send through the outbound client (or check their destinations against its
policy) and never log secrets.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from core_alerts.notify.channels.base import (
    SECRET_PLACEHOLDER,
    Channel,
    ChannelConfig,
    ChannelContext,
    ChannelSpec,
    DeliveryFailed,
)

_PACKAGES = (
    "webhook",
    "slack",
    "msteams",
    "email",
    "pagerduty",
    "opsgenie",
    "servicenow",
    "apprise",
)


@cache
def channel_specs() -> dict[str, ChannelSpec]:
    """`*_configs` key -> its channel type, for every channel package."""
    specs: dict[str, ChannelSpec] = {}
    for name in _PACKAGES:
        module = import_module(f"core_alerts.notify.channels.{name}")
        for spec in getattr(module, "SPECS", None) or (module.SPEC,):
            specs[spec.config_key] = spec
    return specs


__all__ = [
    "SECRET_PLACEHOLDER",
    "Channel",
    "ChannelConfig",
    "ChannelContext",
    "ChannelSpec",
    "DeliveryFailed",
    "channel_specs",
]
