"""Batcher: concurrent submits share writes; a failed write fails exactly its batch."""

from __future__ import annotations

import asyncio

from core_alerts.pipeline import Batcher


async def test_concurrent_submits_share_one_write_and_later_ones_the_next():
    writes: list[list[int]] = []
    gate = asyncio.Event()

    async def write(items: list[int]) -> None:
        writes.append(items)
        await gate.wait()

    batcher = Batcher(write)
    first = [asyncio.create_task(batcher.submit(i)) for i in range(3)]
    await asyncio.sleep(0.01)
    later = [asyncio.create_task(batcher.submit(i)) for i in range(3, 5)]
    await asyncio.sleep(0.01)
    assert writes == [[0, 1, 2]]  # the first write is still running
    gate.set()
    await asyncio.gather(*first, *later)
    assert writes == [[0, 1, 2], [3, 4]]


async def test_max_batch_splits_a_burst():
    writes: list[list[int]] = []

    async def write(items: list[int]) -> None:
        writes.append(items)

    batcher = Batcher(write, max_batch=2)
    await asyncio.gather(*(batcher.submit(i) for i in range(5)))
    assert writes == [[0, 1], [2, 3], [4]]


async def test_a_failed_write_fails_its_callers_and_the_next_batch_goes_on():
    calls = 0

    async def write(items: list[str]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk full")

    batcher = Batcher(write)
    results = await asyncio.gather(batcher.submit("a"), batcher.submit("b"),
                                   return_exceptions=True)  # fmt: skip
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    await batcher.submit("c")  # the batcher still works
    assert calls == 2


async def test_a_single_submit_is_written_without_waiting_for_company():
    seen: list[list[int]] = []

    async def write(items: list[int]) -> None:
        seen.append(items)

    await asyncio.wait_for(Batcher(write).submit(7), timeout=5)
    assert seen == [[7]]
