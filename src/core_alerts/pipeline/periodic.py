"""Periodic: a background job that runs every `interval` seconds until stopped.

A failing round is logged and the next round tries again, so one bad round (a database
blip) never ends the job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class Periodic:
    def __init__(
        self,
        job: Callable[[], Awaitable[object]],
        interval: float,
        name: str,
        *,
        run_first: bool = False,
    ) -> None:
        """`run_first`: run at start, then wait; otherwise wait a full interval first."""
        self._job = job
        self._interval = interval
        self._name = name
        self._run_first = run_first
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        if not self._run_first:
            await asyncio.sleep(self._interval)
        while True:
            try:
                await self._job()
            except Exception as exc:  # the next round tries again
                log.warning(f"{self._name} failed; will retry", error=str(exc))
            await asyncio.sleep(self._interval)
