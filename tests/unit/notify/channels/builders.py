"""What the channel tests build: a channel context around a real outbound client allowed to
reach loopback, alerts and notifications, and checks every config type passes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from core_alerts.domain.clock import FixedClock
from core_alerts.domain.notification import Notification, NotifiedAlert
from core_alerts.notify.channels.base import Channel, ChannelConfig, ChannelContext, ChannelSpec
from core_alerts.notify.templates import TemplateEngine
from core_alerts.outbound import AllowList, OutboundClient, OutboundPolicy

HOSTILE = "<!channel> {{ 7*7 }} <script>"
STARTS = 1_700_000_000.0  # 2023-11-14T22:13:20Z
LOOPBACK = ("127.0.0.1/32",)


@asynccontextmanager
async def channel_context(
    allow: tuple[str, ...] = LOOPBACK, external_url: str = ""
) -> AsyncIterator[ChannelContext]:
    """A real outbound client and policy allowing `allow`, real templates, a fixed clock."""
    policy = OutboundPolicy(allow=AllowList.parse(allow))
    async with OutboundClient(policy) as http:
        yield ChannelContext(
            http=http,
            templates=TemplateEngine(),
            clock=FixedClock(STARTS),
            external_url=external_url,
            policy=policy,
        )


def alert(
    name: str = "HighLatency",
    *,
    status: str = "firing",
    n: int = 1,
    severity: str = "medium",
    summary: str | None = None,
    **labels: str,
) -> NotifiedAlert:
    """Alert `n` of a group: instance web-`n`, env prod, and `labels`."""
    return NotifiedAlert(
        alert_id=f"id-{n}",
        fingerprint=f"{n:016x}",
        status=status,
        labels={"alertname": name, "env": "prod", "instance": f"web-{n}", **labels},
        annotations={"summary": f"{name} on web-{n}" if summary is None else summary},
        starts_at=STARTS + n,
        ends_at=STARTS + 600 if status == "resolved" else STARTS + 300,
        generator_url=f"http://prometheus.example/graph?g0.expr=up&n={n}",
        severity=severity,
    )


def notification(
    *alerts: NotifiedAlert,
    nid: str = "notif-1",
    external_url: str = "https://alerts.example",
    truncated: int = 0,
) -> Notification:
    """A notification of `alerts` (one firing alert() when none is given), grouped by
    alertname."""
    alerts = alerts or (alert(),)
    return Notification(
        id=nid,
        tenant_id="acme",
        receiver="ops",
        integration="webhook[0]",
        group_key='{}/{env="prod"}:{alertname="HighLatency"}',
        group_labels={"alertname": alerts[0].labels["alertname"]},
        alerts=alerts,
        created_at=STARTS + 1000,
        external_url=external_url,
        truncated_alerts=truncated,
    )


def build_channel(spec: ChannelSpec, ctx: ChannelContext, **entry: Any) -> Channel:
    """The channel a receiver's `entry` of the spec's type builds, as the receivers do."""
    return spec.build(msgspec.convert(entry, spec.config_type, strict=False), ctx)


def rejection(config_type: type[ChannelConfig], entry: dict[str, Any]) -> str:
    """The message a config entry that must not validate is rejected with."""
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.convert(entry, config_type, strict=False)
    return str(info.value)


def undescribed(config_type: type[ChannelConfig]) -> dict[str, list[str]]:
    """Fields of the config's JSON schema (nested types included) without a description."""
    found: dict[str, list[str]] = {}
    for name, definition in msgspec.json.schema(config_type)["$defs"].items():
        missing = [p for p, spec in definition["properties"].items() if not spec.get("description")]
        if missing:
            found[name] = missing
    return found
