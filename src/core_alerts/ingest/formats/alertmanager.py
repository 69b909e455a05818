"""Alertmanager API v2 `postableAlerts`: what Prometheus, amtool and Grafana send."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core_alerts.domain.errors import ValidationFailed
from core_alerts.domain.ingest import NormalizedAlert
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.normalize import SourceContext, epoch, normalize

# Alertmanager 0.25 accepts only classic label names.
_NAME_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_REST = _NAME_FIRST | frozenset("0123456789")


class PostableAlert(msgspec.Struct):
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""


def valid_label_name(name: str) -> bool:
    return bool(name) and name[0] in _NAME_FIRST and all(c in _NAME_REST for c in name)


def to_sends(alerts: list[PostableAlert], ctx: SourceContext) -> list[NormalizedAlert]:
    sends = []
    for i, alert in enumerate(alerts):
        if not any(alert.labels.values()):  # empty values are dropped, as Alertmanager does
            raise ValidationFailed("at least one label pair required", field="labels", index=i)
        for name in alert.labels:
            if not valid_label_name(name):
                raise ValidationFailed(
                    f"invalid label name {name!r}: must match [a-zA-Z_][a-zA-Z0-9_]*",
                    field="labels",
                    index=i,
                )
        sends.append(
            normalize(
                ctx,
                labels=alert.labels,
                annotations=alert.annotations,
                starts_at=epoch(alert.startsAt, "startsAt", i),
                ends_at=epoch(alert.endsAt, "endsAt", i),
                generator_url=alert.generatorURL,
                index=i,
            )
        )
    return sends


def decode_alertmanager_v2(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
    alerts: list[PostableAlert] = decode_json(
        body, list[PostableAlert], max_items=ctx.limits.max_alerts_per_request
    )
    return to_sends(alerts, ctx)
