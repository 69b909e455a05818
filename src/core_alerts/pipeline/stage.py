"""A stage takes a batch and returns the batch to pass on; combinators compose stages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class Stage(Protocol[T]):
    """One step of a pipeline; `name` appears in decision records and metrics."""

    name: str

    async def __call__(self, batch: list[T]) -> list[T]: ...


class Chain(Generic[T]):
    """Run stages in order; each receives what the previous one passed on."""

    def __init__(self, stages: Sequence[Stage[T]], name: str = "chain") -> None:
        self.stages = list(stages)
        self.name = name

    async def __call__(self, batch: list[T]) -> list[T]:
        for stage in self.stages:
            if not batch:
                break
            batch = await stage(batch)
        return batch


class Fanout(Generic[T]):
    """Give the same batch to every stage concurrently; pass the input on unchanged."""

    def __init__(self, stages: Sequence[Stage[T]], name: str = "fanout") -> None:
        self.stages = list(stages)
        self.name = name

    async def __call__(self, batch: list[T]) -> list[T]:
        await asyncio.gather(*(stage(list(batch)) for stage in self.stages))
        return batch
