"""Strict JSON decoding from bytes with msgspec, mapped to our errors."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from core_alerts.domain.errors import LimitExceeded, MalformedInput, ValidationFailed

T = TypeVar("T")


def decode_json(body: bytes, into: type[T] | Any, *, max_items: int | None = None) -> T:
    """Decode `body` into `into`; reject invalid JSON, wrong types and oversized batches."""
    if body.startswith(b"\xef\xbb\xbf"):
        raise MalformedInput("the body starts with a byte-order mark; send plain UTF-8 JSON")
    try:
        value = msgspec.json.decode(body, type=into)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(f"invalid payload: {exc}") from None
    except msgspec.DecodeError as exc:
        raise MalformedInput(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        # msgspec recurses even when it skips unknown fields.
        raise MalformedInput("the JSON body is nested too deeply") from None
    if max_items is not None and isinstance(value, list) and len(value) > max_items:
        raise LimitExceeded(f"the batch has {len(value)} alerts; the limit is {max_items}")
    return value
