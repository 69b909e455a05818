"""InProcessBus: per-subscriber queues, so publishers never wait for handlers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog

from core_alerts.bus.ports import Handler

log = structlog.get_logger(__name__)


class _Subscriber:
    def __init__(self, topic: str, handler: Handler) -> None:
        self.topic = topic
        self.handler = handler
        self.queue: asyncio.Queue[Sequence[Any] | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            batch = await self.queue.get()
            if batch is None:
                self.queue.task_done()
                return
            try:
                await self.handler(batch)
            except Exception:
                log.exception("bus handler failed", topic=self.topic)
            finally:
                self.queue.task_done()


class InProcessBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[_Subscriber]] = {}
        self._started = False

    def subscribe(self, topic: str, handler: Handler) -> None:
        sub = _Subscriber(topic, handler)
        self._subs.setdefault(topic, []).append(sub)
        if self._started:
            sub.task = asyncio.get_running_loop().create_task(sub.run())

    async def start(self) -> None:
        self._started = True
        loop = asyncio.get_running_loop()
        for subs in self._subs.values():
            for sub in subs:
                if sub.task is None:
                    sub.task = loop.create_task(sub.run())

    async def publish(self, topic: str, events: Sequence[Any]) -> None:
        if not events:
            return
        for sub in self._subs.get(topic, ()):
            sub.queue.put_nowait(events)

    async def join(self) -> None:
        for subs in list(self._subs.values()):
            for sub in subs:
                await sub.queue.join()

    async def stop(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.queue.put_nowait(None)
                if sub.task is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await sub.task
                sub.task = None
        self._started = False
