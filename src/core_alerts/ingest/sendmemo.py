"""What a decode worker remembers of the sends it made lately, by their raw content."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SendMemo(Generic[V]):
    """A bounded map that keeps what is asked for: a storm repeats the same few alerts, so
    the worker keeps the sends those made (about 2 KB each) for the alerts seen lately.

    Two generations approximate least-recently-used cheaply: entries go into the young one;
    when it is full it becomes the old one (the previous old one is dropped), and a hit in
    the old one moves the entry back into the young one. It holds at most twice
    `capacity` entries."""

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._young: dict[Hashable, V] = {}
        self._old: dict[Hashable, V] = {}

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def get(self, key: Hashable) -> V | None:
        value = self._young.get(key)
        if value is None:
            value = self._old.pop(key, None)
            if value is not None:
                self.put(key, value)
        return value

    def put(self, key: Hashable, value: V) -> None:
        if len(self._young) >= self.capacity:
            self._old, self._young = self._young, {}
        self._young[key] = value
