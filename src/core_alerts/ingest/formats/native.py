"""core-alerts' own JSON format (`POST /api/v1/alerts`): one alert or a list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from core_alerts.domain.ingest import NormalizedAlert, SendAction
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.normalize import SourceContext, epoch, normalize


class NativeAlert(msgspec.Struct, forbid_unknown_fields=True):
    """An alert as posted to /api/v1/alerts. Unknown fields (tenant_id, id ...) are refused."""

    title: str = ""
    description: str = ""
    severity: str | None = None
    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    dedup_key: str | None = None
    generator_url: str = ""


def to_sends(alerts: list[NativeAlert], ctx: SourceContext) -> list[NormalizedAlert]:
    return [
        normalize(
            ctx,
            labels=a.labels,
            annotations=a.annotations,
            title=a.title,
            description=a.description,
            severity=a.severity,
            strict_severity=True,
            starts_at=epoch(a.starts_at, "starts_at", i),
            ends_at=epoch(a.ends_at, "ends_at", i),
            action=SendAction.RESOLVE if a.status == "resolved" else SendAction.FIRE,
            generator_url=a.generator_url,
            dedup_key=a.dedup_key,
            index=i,
            field_names=("starts_at", "ends_at", "generator_url"),
        )
        for i, a in enumerate(alerts)
    ]


def decode_native(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
    stripped = body.lstrip()
    alerts: list[NativeAlert]
    if stripped.startswith(b"["):
        alerts = decode_json(body, list[NativeAlert], max_items=ctx.limits.max_alerts_per_request)
    else:
        alerts = [decode_json(body, NativeAlert)]
    return to_sends(alerts, ctx)
