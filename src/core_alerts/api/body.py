"""Read a request body within limits: size before buffering, gzip after decompression."""

from __future__ import annotations

import zlib
from typing import TypeVar

import msgspec
from fastapi import Request

from core_alerts.api.problems import UnsupportedMediaType
from core_alerts.domain.errors import LimitExceeded, MalformedInput, ValidationFailed

T = TypeVar("T")


def _check_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            f"content type {ctype!r} is not supported; send application/json"
        )


async def read_json_body(request: Request, limit: int) -> bytes:
    """The raw JSON body; raises LimitExceeded (413), MalformedInput (400), or 415."""
    _check_type(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise LimitExceeded(f"the body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LimitExceeded(f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        return _gunzip(body, limit)
    if encoding not in ("identity", ""):
        raise UnsupportedMediaType(f"content encoding {encoding!r} is not supported; use gzip")
    return body


async def read_struct(request: Request, into: type[T], limit: int = 1 << 20) -> T:
    """The JSON body decoded into a msgspec Struct: 400 for bad JSON, 422 for a wrong shape."""
    raw = await read_json_body(request, limit)
    try:
        return msgspec.json.decode(raw, type=into)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(f"invalid body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise MalformedInput(f"the body is not valid JSON: {exc}") from None


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise MalformedInput(f"the gzip body is corrupt: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise LimitExceeded(f"the decompressed body exceeds the limit of {limit} bytes")
    return out
