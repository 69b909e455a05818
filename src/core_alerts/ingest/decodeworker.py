"""The decode worker: `python -m core_alerts.ingest.decodeworker FD`, started by DecodePool.

It reads the service's settings (pickled), then answers jobs in order on the socket `FD`:
the normalized sends as MessagePack, or the decoder's error. It exits when the socket
closes, which is also what happens when the service is killed.
"""

from __future__ import annotations

import pickle  # nosec B403
import signal
import socket
import sys
from multiprocessing.connection import Connection

from core_alerts.config import Settings
from core_alerts.domain import errors
from core_alerts.domain.ingest import PackedSend
from core_alerts.ingest.decodewire import (
    ERRORS,
    FAILED,
    OK,
    UNEXPECTED,
    Failure,
    decode_job,
    encode,
)
from core_alerts.ingest.formats.alertmanager import Recalled, decode_alertmanager_v2_recalling
from core_alerts.ingest.formats.registry import ALERTMANAGER, build_formats
from core_alerts.ingest.formats.registry_types import Decoder
from core_alerts.ingest.normalize import SourceContext
from core_alerts.ingest.privacy import build_anonymisers
from core_alerts.ingest.sendmemo import SendMemo


def serve(conn: Connection) -> None:
    settings: Settings = pickle.loads(conn.recv_bytes())  # noqa: S301  # nosec B301
    formats = build_formats(settings.receivers.generic)
    anonymiser = build_anonymisers(settings.privacy)
    recalled: Recalled = SendMemo()
    conn.send_bytes(OK)  # ready
    while True:
        try:
            job = decode_job(conn.recv_bytes())
        except (EOFError, OSError):
            return
        ctx = SourceContext(
            tenant_id=job.tenant_id,
            source=job.source,
            received_at=job.received_at,
            limits=settings.limits,
            resolve_timeout=job.resolve_timeout,
            anonymiser=anonymiser(job.tenant_id),
        )
        try:
            answer = OK + encode(
                packed_sends(job.fmt, job.body, ctx, formats, recalled)
                if job.packed
                else formats[job.fmt](job.body, ctx)
            )
        except Exception as exc:
            # An error no decoder raises on purpose (a bug) is named UNEXPECTED: the service
            # then decodes the body itself, so the error and its traceback surface there,
            # and this worker lives on.
            kind = type(exc).__name__ if type(exc).__name__ in ERRORS else UNEXPECTED
            message = exc.message if isinstance(exc, errors.CoreAlertsError) else ""
            field = exc.field if isinstance(exc, errors.CoreAlertsError) else None
            answer = FAILED + encode(Failure(kind, message, field, getattr(exc, "index", None)))
        try:
            conn.send_bytes(answer)
        except OSError:
            return


def packed_sends(
    fmt: str, body: bytes, ctx: SourceContext, formats: dict[str, Decoder], recalled: Recalled
) -> list[PackedSend]:
    """The sends of `body` packed. Asked for while a storm repeats its alerts, so the sends
    from Alertmanager's API (what Prometheus posts) are recalled rather than made again
    when their content repeats byte for byte."""
    if fmt == ALERTMANAGER:
        pairs = decode_alertmanager_v2_recalling(body, ctx, recalled)
        return [PackedSend.of(send, digest) for send, digest in pairs]
    return [PackedSend.of(send) for send in formats[fmt](body, ctx)]


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group
    sock = socket.socket(fileno=int(sys.argv[1]))
    serve(Connection(sock.detach()))


if __name__ == "__main__":
    main()
