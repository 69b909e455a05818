"""What the service and its decode workers send each other (see decodepool, decodeworker).

Kept apart so that a worker imports only this, the settings and the decoders.
"""

from __future__ import annotations

import msgspec

from core_alerts.domain import errors

OK, FAILED = b"\x01", b"\x00"
"""The first byte of an answer: the sends follow, or the decoder's error."""

# The errors a decoder raises on purpose, by name: the worker sends the name back and the
# service raises the same error, so a bad body gets the same answer either way.
ERRORS: dict[str, type[errors.CoreAlertsError]] = {
    cls.__name__: cls
    for cls in (errors.ValidationFailed, errors.LimitExceeded, errors.MalformedInput)
}


UNEXPECTED = "unexpected"
"""The kind of a failure no decoder raises on purpose."""


class DecodeJob(msgspec.Struct, array_like=True, frozen=True):
    """One body and the context its sends are normalized in."""

    fmt: str
    body: bytes
    tenant_id: str
    source: str
    received_at: float
    resolve_timeout: float | None
    packed: bool = False
    """Answer PackedSends (for ingestion) rather than NormalizedAlerts."""


class Failure(msgspec.Struct, array_like=True):
    kind: str
    message: str
    field: str | None
    index: int | None


encode = msgspec.msgpack.Encoder().encode
decode_job = msgspec.msgpack.Decoder(DecodeJob).decode
