"""Generic JSON: any tool that can POST JSON, read through a configurable field mapping.

Paths are dotted (`host.name`); a numeric part indexes a list (`tags.0`). A missing path or a
JSON null means "not given". The walk is iterative, so deep bodies cannot exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from core_alerts.domain.errors import ConfigError, ValidationFailed
from core_alerts.domain.ingest import NormalizedAlert, SendAction
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.formats.alertmanager_webhook import check_batch
from core_alerts.ingest.normalize import SourceContext, epoch, normalize

_MAX_EPOCH = 253402300799.0  # 9999-12-31T23:59:59Z, the last second RFC 3339 can write


class FieldMapping(msgspec.Struct, forbid_unknown_fields=True):
    """Where each alert field is found in a sender's JSON (dotted paths)."""

    title: str = "title"
    description: str = "description"
    severity: str = "severity"
    labels: str = "labels"
    """Path to an object; scalar values that are not strings are converted to text."""
    annotations: str = "annotations"
    status: str = "status"
    resolved_values: list[str] = msgspec.field(default_factory=lambda: ["resolved", "ok", "closed"])
    """Status values (case-insensitive) that resolve the alert."""
    dedup_key: str | None = None
    starts_at: str | None = None
    """RFC 3339 text or seconds since the epoch."""
    items: str | None = None
    """Path to the list of alerts; None: the body is one alert or a list of alerts."""
    extra_labels: dict[str, str] = {}
    """Path -> label name, e.g. {"host.name": "instance"}."""


Path = tuple[str, ...]


def _split(path: str, what: str) -> Path:
    parts = tuple(path.split("."))
    if not all(parts):
        raise ConfigError(f"generic mapping {what}: {path!r} is not a dotted path", field=what)
    return parts


def _walk(value: Any, path: Path) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isascii() and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        else:
            return None
    return value


def _text(value: Any, field: str, index: int) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):  # JSON spelling, not Python's "True"
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    kind = "an object" if isinstance(value, dict) else "a list"
    raise ValidationFailed(
        f"{field} must be text or a number, not {kind}", field=field, index=index
    )


def _pairs(value: Any, field: str, index: int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed(f"{field} must be a JSON object", field=field, index=index)
    out: dict[str, str] = {}
    for name, raw in value.items():
        text = _text(raw, f"{field}.{name}", index)
        if text is not None:
            out[name] = text
    return out


def parse_timestamp(value: Any, field: str, index: int) -> float | None:
    """RFC 3339 / ISO 8601 text (with a zone) or epoch seconds; None or "" when not given."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(
                f"{field} is not an RFC 3339 time: {value[:64]!r}", field=field, index=index
            ) from None
        return epoch(parsed, field, index)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value <= _MAX_EPOCH:  # also rejects NaN; milliseconds land here too
            raise ValidationFailed(
                f"{field} must be seconds since the epoch, not {value!r}", field=field, index=index
            )
        return float(value)
    raise ValidationFailed(f"{field} must be a time as text or a number", field=field, index=index)


def make_generic_decoder(
    mapping: FieldMapping,
) -> Callable[[bytes, SourceContext], list[NormalizedAlert]]:
    """Build a decoder for one mapping; the paths are checked here, once (ConfigError)."""
    title = _split(mapping.title, "title")
    description = _split(mapping.description, "description")
    severity = _split(mapping.severity, "severity")
    status = _split(mapping.status, "status")
    labels = _split(mapping.labels, "labels")
    annotations = _split(mapping.annotations, "annotations")
    dedup_key = _split(mapping.dedup_key, "dedup_key") if mapping.dedup_key else None
    starts_at = _split(mapping.starts_at, "starts_at") if mapping.starts_at else None
    items = _split(mapping.items, "items") if mapping.items else None
    extra = [(_split(p, "extra_labels"), p, name) for p, name in mapping.extra_labels.items()]
    resolved = frozenset(v.lower() for v in mapping.resolved_values)

    def one(item: Any, ctx: SourceContext, i: int) -> NormalizedAlert:
        if not isinstance(item, dict):
            raise ValidationFailed("each alert must be a JSON object", index=i)
        pairs = _pairs(_walk(item, labels), mapping.labels, i)
        for path, raw_path, name in extra:
            text = _text(_walk(item, path), raw_path, i)
            if text is not None:
                pairs[name] = text
        state = _text(_walk(item, status), mapping.status, i)
        key = _text(_walk(item, dedup_key), mapping.dedup_key or "", i) if dedup_key else None
        return normalize(
            ctx,
            labels=pairs,
            annotations=_pairs(_walk(item, annotations), mapping.annotations, i),
            title=_text(_walk(item, title), mapping.title, i) or "",
            description=_text(_walk(item, description), mapping.description, i) or "",
            severity=_text(_walk(item, severity), mapping.severity, i),
            starts_at=parse_timestamp(_walk(item, starts_at), mapping.starts_at or "", i)
            if starts_at
            else None,
            action=SendAction.RESOLVE if state and state.lower() in resolved else SendAction.FIRE,
            dedup_key=key or None,
            index=i,
        )

    def decode_generic(body: bytes, ctx: SourceContext) -> list[NormalizedAlert]:
        data: Any = decode_json(body, Any)
        if items is not None:
            found = _walk(data, items)
            if not isinstance(found, list):
                raise ValidationFailed(
                    f"{mapping.items} must be a list of alerts", field=mapping.items
                )
        elif isinstance(data, list):
            found = data
        elif isinstance(data, dict):
            found = [data]
        else:
            raise ValidationFailed("the body must be a JSON object or a list of objects")
        check_batch(len(found), ctx)
        return [one(item, ctx, i) for i, item in enumerate(found)]

    return decode_generic
