"""Decoding large bodies in worker processes, so ingestion uses more than one core.

The service is one Python process: the event loop and the store's writer share one GIL.
Decoding, validating, normalizing and fingerprinting a batch is pure CPU on bytes, so it can
run in another process: the worker returns the normalized sends as MessagePack, which the
service turns back into objects for a fraction of what decoding cost. For ingestion each
send comes packed (`PackedSend`): its dedup fields and content digest are decoded, the rest
only when the planner needs it, which a repeat that changes nothing does not. Small bodies are
decoded in place (the hop would cost more than it saves).

Each worker is connected by one socket pair that the event loop reads itself: no helper
threads in the service (they would contend for its GIL), jobs pipelined in order. A worker
that dies is replaced; the requests it held are decoded in place instead. A worker exits when
its socket closes, which also happens when the service is killed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import pickle  # nosec B403
import socket
import struct
import sys
import time
from collections.abc import Callable

import msgspec
import structlog

from core_alerts.config import Settings
from core_alerts.domain import errors
from core_alerts.domain.ingest import NormalizedAlert, PackedSend
from core_alerts.ingest.decodewire import ERRORS, OK, UNEXPECTED, DecodeJob, Failure, encode

log = structlog.get_logger(__name__)

WORKER_MODULE = "core_alerts.ingest.decodeworker"
_HEADER = struct.Struct("!i")  # multiprocessing.Connection's frame header (the worker's side)
_START_TIMEOUT = 60.0
_JOIN_SECONDS = 5.0
_RESTART_BACKOFF = 30.0
_decode_sends = msgspec.msgpack.Decoder(list[NormalizedAlert]).decode
_decode_packed = msgspec.msgpack.Decoder(list[PackedSend]).decode
_decode_failure = msgspec.msgpack.Decoder(Failure).decode


class WorkerGone(Exception):
    """The worker holding a job ended before answering it."""


# -- in the service ------------------------------------------------------------------------


def _raise(failure: Failure) -> None:
    cls = ERRORS[failure.kind]
    if issubclass(cls, errors.ValidationFailed):
        raise cls(failure.message, field=failure.field, index=failure.index)
    raise cls(failure.message, field=failure.field)


class _Worker:
    """One worker process and the service's end of its socket pair."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.process = process
        self.reader = reader
        self.writer = writer
        self.waiting: collections.deque[asyncio.Future[bytes]] = collections.deque()
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def spawn(cls, settings: Settings) -> _Worker:
        ours, theirs = socket.socketpair()
        # A new interpreter that imports only the decoders (not the web stack), rather than
        # a fork: the service has threads, which fork would copy in whatever state they were.
        with theirs:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                WORKER_MODULE,
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
            )
        reader, writer = await asyncio.open_unix_connection(sock=ours, limit=1 << 20)
        worker = cls(process, reader, writer)
        worker._send(pickle.dumps(settings))  # trusted: our own process, our own socket
        try:
            ready = await asyncio.wait_for(worker._frame(), _START_TIMEOUT)
        except BaseException:
            worker.stop()
            raise
        if ready != OK:
            worker.stop()
            raise WorkerGone("the decode worker did not start")
        worker.task = asyncio.ensure_future(worker._answers())
        return worker

    async def _frame(self) -> bytes:
        (size,) = _HEADER.unpack(await self.reader.readexactly(_HEADER.size))
        return await self.reader.readexactly(size)

    async def _answers(self) -> None:
        try:
            while True:
                answer = await self._frame()
                future = self.waiting.popleft()
                if not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            while self.waiting:
                future = self.waiting.popleft()
                if not future.done():
                    future.set_exception(WorkerGone("the decode worker ended"))

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done()

    def _send(self, payload: bytes) -> None:
        self.writer.write(_HEADER.pack(len(payload)))
        self.writer.write(payload)

    def submit(self, job: DecodeJob) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._send(encode(job))
        self.waiting.append(future)
        return future

    def stop(self) -> None:
        self.writer.close()  # the worker reads EOF and exits
        if self.task is not None:
            self.task.cancel()

    async def join(self) -> None:
        try:
            await asyncio.wait_for(self.process.wait(), _JOIN_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


class DecodePool:
    """`workers` processes that decode bodies of at least `min_bytes`."""

    def __init__(self, settings: Settings, workers: int, min_bytes: int) -> None:
        self._settings = settings
        self.workers = workers
        self.min_bytes = min_bytes
        self._live: list[_Worker] = []
        self._starting: asyncio.Future[None] | None = None
        self._closed = False
        self._retry_at = 0.0
        """After a failed start, no new attempt before this (monotonic) time."""

    def wants(self, body: bytes) -> bool:
        """Whether `body` goes to a worker. The first large body starts the workers in the
        background and is decoded in place, as are the ones that come while they start."""
        if len(body) < self.min_bytes or self._closed or self.workers < 1:
            return False
        self._keep_up()
        return bool(self._live)

    def _keep_up(self) -> None:
        """Forget ended workers and start their replacements in the background."""
        self._live = [w for w in self._live if w.alive]
        idle = self._starting is None or self._starting.done()
        due = time.monotonic() >= self._retry_at
        if len(self._live) < self.workers and not self._closed and idle and due:
            self._starting = asyncio.ensure_future(self._spawn_missing())

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._live]

    async def start(self) -> None:
        """Start the missing workers and wait until each has imported the decoders."""
        if self._starting is not None and not self._starting.done():
            await self._starting
        self._starting = asyncio.ensure_future(self._spawn_missing())
        await self._starting

    async def _spawn_missing(self) -> None:
        self._live = [w for w in self._live if w.alive]
        missing = self.workers - len(self._live)
        if missing < 1 or self._closed:
            return
        started = await asyncio.gather(
            *(_Worker.spawn(self._settings) for _ in range(missing)), return_exceptions=True
        )
        for worker in started:
            if isinstance(worker, BaseException):
                log.warning(
                    "a decode worker failed to start; decoding in the service meanwhile",
                    error=str(worker) or type(worker).__name__,
                    retry_in_seconds=_RESTART_BACKOFF,
                )
                self._retry_at = time.monotonic() + _RESTART_BACKOFF
            elif self._closed:
                worker.stop()
            else:
                self._live.append(worker)

    async def decode(
        self, job: DecodeJob, fallback: Callable[[], list[NormalizedAlert]]
    ) -> list[NormalizedAlert]:
        """The sends of `job`; raises the decoder's error for a bad body. `fallback` decodes
        in this process when no worker can (one died, or the pool is closing)."""
        answer = await self._answer(job)
        return fallback() if answer is None else _decode_sends(answer)

    async def decode_packed(
        self, job: DecodeJob, fallback: Callable[[], list[NormalizedAlert]]
    ) -> list[PackedSend] | list[NormalizedAlert]:
        """`decode` for ingestion: the sends packed (`job.packed`), or the fallback's."""
        answer = await self._answer(job)
        return fallback() if answer is None else _decode_packed(answer)

    async def _answer(self, job: DecodeJob) -> memoryview | None:
        """A worker's encoded sends, or None where the caller must decode in place."""
        self._keep_up()
        if not self._live:
            return None
        worker = min(self._live, key=lambda w: len(w.waiting))
        try:
            answer = await worker.submit(job)
        except WorkerGone:
            log.warning("a decode worker ended; decoding here and starting a new one")
            self._keep_up()
            return None
        if answer[:1] != OK:
            failure = _decode_failure(memoryview(answer)[1:])
            if failure.kind == UNEXPECTED:
                return None  # the service's own decoding raises it, with a traceback
            _raise(failure)
        return memoryview(answer)[1:]

    async def close(self) -> None:
        self._closed = True
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        workers, self._live = self._live, []
        for worker in workers:
            worker.stop()
        await asyncio.gather(*(w.join() for w in workers))
