"""Strict JSON decoding from bytes with msgspec, mapped to our errors."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from core_alerts.domain.errors import LimitExceeded, MalformedInput, ValidationFailed

T = TypeVar("T")

# A \uD800-\uDBFF escape not followed by a low one, or a \uDC00-\uDFFF escape not preceded
# by a high one: JSON text that names an unpaired surrogate, which no backend can store.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


# \u0000 preceded by an even number of backslashes (an odd count would escape the backslash).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _syntax_error(body: bytes, exc: Exception) -> Exception:
    if _LONE_SURROGATE.search(body):
        return ValidationFailed("a string contains an unpaired surrogate (invalid Unicode)")
    if "out of range" in str(exc):  # valid JSON syntax, a value no field can hold
        return ValidationFailed(f"a number is out of range: {exc}")
    return MalformedInput(f"the body is not valid JSON: {exc}")


def decode_json(body: bytes, into: type[T] | Any, *, max_items: int | None = None) -> T:
    """Decode `body` into `into`; reject invalid JSON, wrong types and oversized batches."""
    if body.startswith(b"\xef\xbb\xbf"):
        raise MalformedInput("the body starts with a byte-order mark; send plain UTF-8 JSON")
    if b"\\u0000" in body and _NUL_ESCAPE.search(body):
        # JSON can carry NUL only as this escape; no backend stores it (PostgreSQL refuses).
        raise ValidationFailed("a string contains a NUL character (\\u0000)")
    try:
        value = msgspec.json.decode(body, type=into)
    except msgspec.ValidationError as exc:
        # A typed decode reports the first type error even when the JSON is cut short later;
        # unparseable input is a 400 whatever its shape.
        try:
            msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as syntax:
            raise _syntax_error(body, syntax) from None
        raise ValidationFailed(f"invalid payload: {exc}") from None
    except msgspec.DecodeError as exc:
        raise _syntax_error(body, exc) from None
    except UnicodeDecodeError as exc:
        raise MalformedInput(f"the body is not valid UTF-8: {exc.reason}") from None
    except RecursionError:
        # msgspec recurses even when it skips unknown fields.
        raise MalformedInput("the JSON body is nested too deeply") from None
    if max_items is not None and isinstance(value, list) and len(value) > max_items:
        raise LimitExceeded(f"the batch has {len(value)} alerts; the limit is {max_items}")
    return value
