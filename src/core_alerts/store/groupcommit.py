"""Group commit: concurrent requests share one transaction, each stays all-or-nothing.

Requests queue up while the previous group commits; the flusher takes everything waiting
(up to `max_sends`), hands it to the backend's `write_group` in one transaction, and
answers each request. If the group fails, each request is retried alone so one bad
request cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from core_alerts.domain.errors import Overloaded, StorageUnavailable
from core_alerts.domain.ingest import IngestResult, IngestSend

Req = TypeVar("Req")
Res = TypeVar("Res")

WriteGroup = Callable[[list[Req]], Awaitable[list[Res]]]


class GroupCommitter(Generic[Req, Res]):
    def __init__(
        self,
        write_group: WriteGroup[Req, Res],
        *,
        size_of: Callable[[Req], int],
        max_sends: int,
        max_pending: int,
        on_group: Callable[[int, int, float], None] | None = None,
    ) -> None:
        self._write_group = write_group
        self._size_of = size_of
        self._max_sends = max_sends
        self._max_pending = max_pending
        self._on_group = on_group
        self._queue: deque[tuple[Req, asyncio.Future[Res]]] = deque()
        self._pending = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def pending(self) -> int:
        return self._pending

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def submit(self, request: Req) -> Res:
        if self._closing or self._task is None:
            raise StorageUnavailable("the store is not open for writes", retry_after=5)
        size = self._size_of(request)
        if self._pending + size > self._max_pending:
            raise Overloaded(
                f"{self._pending} alerts are waiting for commit; retry shortly", retry_after=1
            )
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        self._pending += size
        # Counted until committed, even if the caller goes away: the write still happens.
        future.add_done_callback(lambda _: self._release(size))
        self._wakeup.set()
        return await asyncio.shield(future)

    def _release(self, size: int) -> None:
        self._pending -= size

    async def close(self) -> None:
        """Stop taking requests and commit those already queued."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _take_group(self) -> list[tuple[Req, asyncio.Future[Res]]]:
        group: list[tuple[Req, asyncio.Future[Res]]] = []
        sends = 0
        while self._queue:
            size = self._size_of(self._queue[0][0])
            if group and sends + size > self._max_sends:
                break
            group.append(self._queue.popleft())
            sends += size
        return group

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            group = self._take_group()
            started = loop.time()
            await self._commit(group)
            if self._on_group is not None:
                sends = sum(self._size_of(r) for r, _ in group)
                self._on_group(len(group), sends, loop.time() - started)

    async def _commit(self, group: list[tuple[Req, asyncio.Future[Res]]]) -> None:
        try:
            results = await self._write_group([req for req, _ in group])
        except Exception as exc:
            if len(group) == 1 or isinstance(exc, StorageUnavailable):
                for _, fut in group:
                    if not fut.done():
                        fut.set_exception(exc)
                return
            for item in group:
                await self._commit([item])
            return
        for (_, fut), res in zip(group, results, strict=True):
            if not fut.done():
                fut.set_result(res)


class GroupCommittedWrites:
    """The part of AlertStore that every backend answers the same way: sends go through
    the backend's GroupCommitter."""

    _committer: GroupCommitter[Sequence[IngestSend], list[IngestResult]]

    async def apply_sends(self, sends: Sequence[IngestSend]) -> list[IngestResult]:
        if not sends:
            return []
        return await self._committer.submit(sends)

    async def pending_writes(self) -> int:
        return self._committer.pending
