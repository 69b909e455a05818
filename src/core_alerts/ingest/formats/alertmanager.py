"""Alertmanager API v2 `postableAlerts`: what Prometheus, amtool and Grafana send.

The limits (label count, name and value lengths, Alertmanager 0.25's label-name syntax) are
compiled into the msgspec types, so the C decoder enforces them while it parses; the Python
code then only applies the rules that need a whole alert.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Annotated, Any

import msgspec

from core_alerts.config import LimitSettings
from core_alerts.domain.errors import ValidationFailed
from core_alerts.domain.ingest import NormalizedAlert
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.normalize import SourceContext, epoch, normalize

# Alertmanager 0.25 accepts only classic label names.
LABEL_NAME = "^[a-zA-Z_][a-zA-Z0-9_]*$"
_LABEL_NAME = re.compile(LABEL_NAME)
MAX_URL = 4096


class PostableAlert(msgspec.Struct):
    """The documented shape (OpenAPI); decoding uses the limited twin from `_limited`."""

    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""


def valid_label_name(name: str) -> bool:
    return name.isascii() and name.isidentifier()


_KNOWN_NAMES: set[str] = set()
_KNOWN_LIMIT = 10_000  # label names repeat across alerts: check each once


def check_label_names(labels: dict[str, str], index: int) -> None:
    """Alertmanager 0.25's label-name syntax, checked once per distinct name."""
    known = _KNOWN_NAMES
    for name in labels:
        if name in known:
            continue
        if _LABEL_NAME.fullmatch(name) is None:
            raise ValidationFailed(
                f"invalid label name {name!r}: it must match {LABEL_NAME}",
                field="labels",
                index=index,
            )
        if len(known) >= _KNOWN_LIMIT:
            known.clear()
        known.add(name)


@functools.cache
def _limited(limits: LimitSettings) -> Any:
    def text(max_len: int, **kw: Any) -> Any:
        return Annotated[str, msgspec.Meta(max_length=max_len, **kw)]

    def pairs(name: Any, value: Any) -> Any:
        return Annotated[dict[name, value], msgspec.Meta(max_length=limits.max_labels)]

    labels = pairs(  # names are checked by check_label_names (a C regex per key is slow)
        text(limits.max_label_name_length),
        text(limits.max_label_value_length),
    )
    annotations = pairs(
        text(limits.max_label_name_length), text(limits.max_annotation_value_length)
    )
    alert = msgspec.defstruct(
        "PostableAlert",
        [
            ("labels", labels),
            ("annotations", annotations, {}),
            ("startsAt", datetime | None, None),
            ("endsAt", datetime | None, None),
            ("generatorURL", text(MAX_URL), ""),
        ],
    )
    return list[alert]  # type: ignore[valid-type]


def to_sends(alerts: list[Any], ctx: SourceContext) -> list[NormalizedAlert]:
    """Alerts decoded with `_limited(ctx.limits)`: names, lengths and counts are checked."""
    sends = []
    for i, alert in enumerate(alerts):
        check_label_names(alert.labels, i)
        if not any(alert.labels.values()):  # empty values are dropped, as Alertmanager does
            raise ValidationFailed("at least one label pair required", field="labels", index=i)
        sends.append(
            normalize(
                ctx,
                labels=alert.labels,
                annotations=alert.annotations,
                starts_at=epoch(alert.startsAt, "startsAt", i),
                ends_at=epoch(alert.endsAt, "endsAt", i),
                generator_url=alert.generatorURL,
                index=i,
                prevalidated=True,
            )
        )
    return sends


def decode_alertmanager_v2(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
    alerts: list[Any] = decode_json(
        body, _limited(ctx.limits), max_items=ctx.limits.max_alerts_per_request
    )
    return to_sends(alerts, ctx)
