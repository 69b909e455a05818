"""The bus Protocol: topics carry batches of msgspec events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

Handler = Callable[[Sequence[Any]], Awaitable[None]]


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Deliver what is queued, then stop."""
        ...

    async def publish(self, topic: str, events: Sequence[Any]) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...

    async def join(self) -> None:
        """Wait until every event published so far has been handled."""
        ...
