"""Receivers: the `receivers:` section validated into typed channel configs, then built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from core_alerts.domain.errors import ConfigError
from core_alerts.notify.channels import Channel, ChannelConfig, ChannelContext, channel_specs

# Alertmanager integrations without a channel of their own here; Apprise covers them.
_VIA_APPRISE = {
    "pushover_configs": "pover://",
    "telegram_configs": "tgram://",
    "discord_configs": "discord://",
    "victorops_configs": "splunk://",
    "sns_configs": "sns://",
    "wechat_configs": "wecombot://",
    "webex_configs": "wxteams://",
    "jira_configs": "jira://",
    "rocketchat_configs": "rocket://",
}


@dataclass(frozen=True, slots=True)
class IntegrationConfig:
    """One validated entry of a receiver, e.g. `slack_configs[1]` of receiver `ops`."""

    receiver: str
    kind: str
    index: int
    config: ChannelConfig

    @property
    def key(self) -> str:
        return f"{self.kind}[{self.index}]"


@dataclass(frozen=True, slots=True)
class Integration:
    """An integration ready to send."""

    receiver: str
    key: str
    kind: str
    send_resolved: bool
    channel: Channel


def parse_receiver(
    name: str, configs: Mapping[str, Any], global_: Mapping[str, Any], line: int = 0
) -> list[IntegrationConfig]:
    """Validate one receiver's `*_configs` lists; a ConfigError names line, key and field."""
    where = f"line {line}: " if line else ""
    specs = channel_specs()
    parsed: list[IntegrationConfig] = []
    for key, entries in configs.items():
        spec = specs.get(key)
        if spec is None:
            raise ConfigError(f"{where}receiver {name!r}: {_unknown(key)}", field=key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise ConfigError(f"{where}receiver {name!r}: {key} must be a list", field=key)
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{where}receiver {name!r}: {key}[{index}] must be a mapping")
            merged = {**spec.defaults(global_), **entry}
            try:
                config = msgspec.convert(merged, spec.config_type, strict=False)
            except msgspec.ValidationError as exc:
                message = str(exc).replace("`$.", "`").replace("`$`", "the entry")
                raise ConfigError(
                    f"{where}receiver {name!r}: {key}[{index}]: {message}", field=key
                ) from None
            parsed.append(IntegrationConfig(name, spec.integration, index, config))
    return parsed


def build_integrations(configs: list[IntegrationConfig], ctx: ChannelContext) -> list[Integration]:
    specs = {spec.integration: spec for spec in channel_specs().values()}
    return [
        Integration(
            receiver=c.receiver,
            key=c.key,
            kind=c.kind,
            send_resolved=c.config.send_resolved,
            channel=specs[c.kind].build(c.config, ctx),
        )
        for c in configs
    ]


def _unknown(key: str) -> str:
    if key in _VIA_APPRISE:
        return (
            f"{key} has no channel of its own; use apprise_configs with a {_VIA_APPRISE[key]} URL"
        )
    known = ", ".join(sorted(channel_specs()))
    return f"unknown integration {key}; known: {known}"
