"""Batcher: callers hand in items one by one and wait; one call writes all that waited.

While a write runs, new items queue up and go together in the next one, so a burst costs
a few round trips instead of one per item (the group-commit pattern).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    """`write(items)` must be all or nothing: if it raises, every caller of that batch
    receives the exception."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]], max_batch: int = 1000) -> None:
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Return once `item` has been written with its batch."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the callers of this loop turn join the first batch
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                await self._write([item for item, _ in batch])
            except BaseException as exc:  # each caller sees its batch's failure
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise  # cancelled: stop, callers were told
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
