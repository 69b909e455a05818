"""Decoding large bodies in worker processes, so ingestion uses more than one core.

The service is one Python process: the event loop and the store's writer share one GIL.
Decoding, validating, normalizing and fingerprinting a batch is pure CPU on bytes, so it can
run in another process: the worker returns the normalized sends as MessagePack, which the
service turns back into objects for a fraction of what decoding cost. Small bodies are
decoded in place (the hop would cost more than it saves).

A worker that dies is replaced; the request it held is decoded in place instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import msgspec
import structlog

from core_alerts.config import Settings
from core_alerts.domain import errors
from core_alerts.domain.ingest import NormalizedAlert
from core_alerts.ingest.formats.registry import build_formats
from core_alerts.ingest.formats.registry_types import Decoder
from core_alerts.ingest.normalize import SourceContext
from core_alerts.ingest.privacy import Anonymiser, build_anonymisers

log = structlog.get_logger(__name__)

_PARENT_POLL_SECONDS = 0.5
_encode = msgspec.msgpack.Encoder().encode
_decode_sends = msgspec.msgpack.Decoder(list[NormalizedAlert]).decode

# The errors a decoder raises on purpose, by name: the worker sends the name back and the
# service raises the same error, so a bad body gets the same answer either way.
_ERRORS: dict[str, type[errors.CoreAlertsError]] = {
    cls.__name__: cls
    for cls in (errors.ValidationFailed, errors.LimitExceeded, errors.MalformedInput)
}


class _Failure(msgspec.Struct, array_like=True):
    kind: str
    message: str
    field: str | None
    index: int | None


@dataclass(frozen=True, slots=True)
class DecodeJob:
    """One body and the context its sends are normalized in (all picklable)."""

    fmt: str
    body: bytes
    tenant_id: str
    source: str
    received_at: float
    resolve_timeout: float | None


# -- in the worker process -----------------------------------------------------------------

_worker: tuple[Settings, dict[str, Decoder], Callable[[str], Anonymiser | None]] | None = None


def _start_worker(settings: Settings) -> None:
    global _worker
    # Ctrl-C reaches the whole process group; the service decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    _worker = (
        settings,
        build_formats(settings.receivers.generic),
        build_anonymisers(settings.privacy),
    )


def _exit_with(parent: int) -> None:
    """End this worker when the service is gone, even killed with SIGKILL (the job queue
    would never report it: the worker holds both of its ends)."""
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(0)


def _run(job: DecodeJob) -> tuple[bool, bytes]:
    """(True, sends as MessagePack) or (False, the error as MessagePack)."""
    assert _worker is not None, "the worker was not initialised"
    settings, formats, anonymiser = _worker
    ctx = SourceContext(
        tenant_id=job.tenant_id,
        source=job.source,
        received_at=job.received_at,
        limits=settings.limits,
        resolve_timeout=job.resolve_timeout,
        anonymiser=anonymiser(job.tenant_id),
    )
    try:
        return True, _encode(formats[job.fmt](job.body, ctx))
    except errors.CoreAlertsError as exc:
        if type(exc).__name__ not in _ERRORS:
            raise
        return False, _encode(
            _Failure(type(exc).__name__, exc.message, exc.field, getattr(exc, "index", None))
        )


def _ping() -> bool:
    return _worker is not None


# -- in the service ------------------------------------------------------------------------


def _raise(payload: bytes) -> None:
    failure = msgspec.msgpack.decode(payload, type=_Failure)
    cls = _ERRORS[failure.kind]
    if issubclass(cls, errors.ValidationFailed):
        raise cls(failure.message, field=failure.field, index=failure.index)
    raise cls(failure.message, field=failure.field)


class DecodePool:
    """`workers` processes that decode bodies of at least `min_bytes`."""

    def __init__(self, settings: Settings, workers: int, min_bytes: int) -> None:
        self._settings = settings
        self.workers = workers
        self.min_bytes = min_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._starting: asyncio.Future[None] | None = None
        self._closed = False

    def wants(self, body: bytes) -> bool:
        """Whether `body` goes to a worker. The first large body starts the workers in the
        background and is decoded in place, as are the ones that come while they start."""
        if len(body) < self.min_bytes or self._closed:
            return False
        if self._pool is None:
            if self._starting is None:
                self._starting = asyncio.ensure_future(self.start())
            return False
        return True

    async def start(self) -> None:
        """Start the workers and wait until each has imported the decoders."""
        if self._pool is not None or self._closed:
            return
        pool = self._new_pool()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(*(loop.run_in_executor(pool, _ping) for _ in range(self.workers)))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        if self._closed or self._pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        else:
            self._pool = pool

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: the service has threads (store writer, readers), which fork would copy
        # in whatever state they were.
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._settings,),
        )

    async def decode(
        self, job: DecodeJob, fallback: Callable[[], list[NormalizedAlert]]
    ) -> list[NormalizedAlert]:
        """The sends of `job`; raises the decoder's error for a bad body. `fallback` decodes
        in this process when the pool is gone (a worker died or the pool is closing)."""
        pool = self._pool
        if pool is None:
            return fallback()
        try:
            ok, payload = await asyncio.get_running_loop().run_in_executor(pool, _run, job)
        except BrokenProcessPool:
            log.warning("a decode worker died; starting new workers")
            self._replace(pool)
            return fallback()
        except RuntimeError:  # shut down while the job was queued
            return fallback()
        if not ok:
            _raise(payload)
        return _decode_sends(payload)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self._pool is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    async def close(self) -> None:
        self._closed = True
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)
