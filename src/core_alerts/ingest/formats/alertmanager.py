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
from core_alerts.domain.errors import CoreAlertsError, ValidationFailed
from core_alerts.domain.ingest import NormalizedAlert, SendAction, content_digest
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.normalize import FIELD_NAMES, SourceContext, epoch, normalize, send_times
from core_alerts.ingest.sendmemo import SendMemo

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
def _pair_types(limits: LimitSettings) -> tuple[Any, Any]:
    """The labels and annotations types, with the limits msgspec checks while it parses."""

    def text(max_len: int) -> Any:
        return Annotated[str, msgspec.Meta(max_length=max_len)]

    def pairs(name: Any, value: Any) -> Any:
        return Annotated[dict[name, value], msgspec.Meta(max_length=limits.max_labels)]

    labels = pairs(  # names are checked by check_label_names (a C regex per key is slow)
        text(limits.max_label_name_length),
        text(limits.max_label_value_length),
    )
    annotations = pairs(
        text(limits.max_label_name_length), text(limits.max_annotation_value_length)
    )
    return labels, annotations


@functools.cache
def _pair_decoders(limits: LimitSettings) -> tuple[Any, Any]:
    return tuple(msgspec.json.Decoder(t).decode for t in _pair_types(limits))  # type: ignore[return-value]


def _alert_struct(labels: Any, annotations: Any, empty: Any) -> Any:
    return msgspec.defstruct(
        "PostableAlert",
        [
            ("labels", labels),
            ("annotations", annotations, empty),
            ("startsAt", datetime | None, None),
            ("endsAt", datetime | None, None),
            ("generatorURL", Annotated[str, msgspec.Meta(max_length=MAX_URL)], ""),
        ],
    )


@functools.cache
def _limited(limits: LimitSettings) -> Any:
    return list[_alert_struct(*_pair_types(limits), {})]  # type: ignore[misc]


_DEFERRED: Any = list[_alert_struct(msgspec.Raw, msgspec.Raw, msgspec.Raw(b"{}"))]  # type: ignore[misc]
"""`_limited` with labels and annotations left as raw JSON, decoded only when new."""
Recalled = SendMemo[tuple[NormalizedAlert, bytes]]
"""Sends with their content digests, by tenant, source and raw content."""


def to_send(alert: Any, ctx: SourceContext, i: int) -> NormalizedAlert:
    """One alert decoded with `_limited(ctx.limits)`: names, lengths and counts are checked."""
    check_label_names(alert.labels, i)
    if not any(alert.labels.values()):  # empty values are dropped, as Alertmanager does
        raise ValidationFailed("at least one label pair required", field="labels", index=i)
    return normalize(
        ctx,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=epoch(alert.startsAt, "startsAt", i),
        ends_at=epoch(alert.endsAt, "endsAt", i),
        generator_url=alert.generatorURL,
        index=i,
        prevalidated=True,
    )


def decode_alertmanager_v2(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
    alerts: list[Any] = decode_json(
        body, _limited(ctx.limits), max_items=ctx.limits.max_alerts_per_request
    )
    return [to_send(alert, ctx, i) for i, alert in enumerate(alerts)]


def decode_alertmanager_v2_recalling(
    body: bytes, ctx: SourceContext, memo: Recalled
) -> list[tuple[NormalizedAlert, bytes]]:
    """`decode_alertmanager_v2` for a storm, with each send's content digest: an alert whose
    labels, annotations and generator URL are byte for byte those of a send in `memo` is
    that send with its own times (nothing else of it is checked or computed again).

    Accepts and rejects exactly what `decode_alertmanager_v2` does: a body this path cannot
    take whole is decoded by it, so its errors are the ones reported."""
    if ctx.anonymiser is not None:  # content then depends on the tenant's privacy rules
        return _fresh(body, ctx)
    try:
        alerts: list[Any] = decode_json(
            body, _DEFERRED, max_items=ctx.limits.max_alerts_per_request
        )
        decoders = _pair_decoders(ctx.limits)
        return [_recall(alert, ctx, i, memo, decoders) for i, alert in enumerate(alerts)]
    except (CoreAlertsError, msgspec.DecodeError, UnicodeDecodeError):
        return _fresh(body, ctx)


def _fresh(body: bytes, ctx: SourceContext) -> list[tuple[NormalizedAlert, bytes]]:
    return [(send, content_digest(send)) for send in decode_alertmanager_v2(body, ctx)]


def _recall(
    alert: Any, ctx: SourceContext, i: int, memo: Recalled, decoders: tuple[Any, Any]
) -> tuple[NormalizedAlert, bytes]:
    key = (
        ctx.tenant_id, ctx.source, bytes(alert.labels), bytes(alert.annotations),
        alert.generatorURL,
    )  # fmt: skip
    known = memo.get(key)
    if known is None:
        # New content: decoded and checked as `decode_alertmanager_v2` does, in place (the
        # struct was made for this call), then normalized by the same code.
        decode_labels, decode_annotations = decoders
        alert.labels = decode_labels(alert.labels)
        alert.annotations = decode_annotations(alert.annotations)
        send = to_send(alert, ctx, i)
        known = send, content_digest(send)
        memo.put(key, known)
        return known
    template, digest = known
    start, end, explicit = send_times(
        ctx,
        epoch(alert.startsAt, "startsAt", i),
        epoch(alert.endsAt, "endsAt", i),
        SendAction.FIRE,
        FIELD_NAMES,
        i,
    )
    send = msgspec.structs.replace(
        template, starts_at=start, ends_at=end, ends_at_explicit=explicit,
        received_at=ctx.received_at,
    )  # fmt: skip
    return send, digest
