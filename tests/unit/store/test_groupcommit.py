"""Group commit: sharing transactions, isolating failures, backpressure, draining on close."""

from __future__ import annotations

import asyncio

import pytest

from core_alerts.domain.errors import ConflictError, Overloaded, StorageUnavailable
from core_alerts.store.groupcommit import GroupCommitter


class Recorder:
    """A fake transaction runner that records the groups it was given."""

    def __init__(self, fail_on: str | None = None, gate: asyncio.Event | None = None) -> None:
        self.groups: list[list[str]] = []
        self.fail_on = fail_on
        self.gate = gate

    async def write(self, requests: list[str]) -> list[str]:
        if self.gate is not None:
            await self.gate.wait()
        self.groups.append(list(requests))
        if self.fail_on in requests:
            raise ConflictError(f"{self.fail_on} conflicts")
        return [r.upper() for r in requests]


def committer(
    rec: Recorder, max_sends: int = 100, max_pending: int = 1000
) -> GroupCommitter[str, str]:
    gc: GroupCommitter[str, str] = GroupCommitter(
        rec.write, size_of=len, max_sends=max_sends, max_pending=max_pending
    )
    gc.start()
    return gc


async def test_requests_waiting_during_a_commit_share_the_next_one() -> None:
    gate = asyncio.Event()
    rec = Recorder(gate=gate)
    gc = committer(rec)
    first = asyncio.create_task(gc.submit("a"))
    await asyncio.sleep(0)
    others = [asyncio.create_task(gc.submit(x)) for x in ("b", "c", "d")]
    await asyncio.sleep(0)
    gate.set()
    assert await first == "A"
    assert await asyncio.gather(*others) == ["B", "C", "D"]
    assert rec.groups == [["a"], ["b", "c", "d"]]
    await gc.close()


async def test_one_failing_request_does_not_fail_its_neighbours() -> None:
    gate = asyncio.Event()
    rec = Recorder(fail_on="bad", gate=gate)
    gc = committer(rec)
    tasks = [asyncio.create_task(gc.submit(x)) for x in ("ok1", "bad", "ok2")]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == "OK1" and results[2] == "OK2"
    assert isinstance(results[1], ConflictError)
    assert rec.groups[0] == ["ok1", "bad", "ok2"]  # the shared attempt, then one by one
    assert ["bad"] in rec.groups[1:]
    await gc.close()


async def test_groups_respect_the_send_limit() -> None:
    gate = asyncio.Event()
    rec = Recorder(gate=gate)
    gc = committer(rec, max_sends=4)
    tasks = [asyncio.create_task(gc.submit(x)) for x in ("aa", "bb", "cc", "d")]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert rec.groups == [["aa", "bb"], ["cc", "d"]]
    await gc.close()


async def test_a_full_queue_answers_overloaded_with_retry_after() -> None:
    gate = asyncio.Event()
    gc = committer(Recorder(gate=gate), max_pending=5)
    waiting = asyncio.create_task(gc.submit("abcd"))
    await asyncio.sleep(0)
    with pytest.raises(Overloaded) as err:
        await gc.submit("xy")
    assert err.value.retry_after >= 1
    assert gc.pending == 4
    gate.set()
    await waiting
    assert gc.pending == 0
    await gc.close()


async def test_close_commits_what_is_queued_then_refuses() -> None:
    gate = asyncio.Event()
    rec = Recorder(gate=gate)
    gc = committer(rec)
    tasks = [asyncio.create_task(gc.submit(x)) for x in ("a", "b")]
    await asyncio.sleep(0)
    closing = asyncio.create_task(gc.close())
    await asyncio.sleep(0)
    gate.set()
    await closing
    assert await asyncio.gather(*tasks) == ["A", "B"]
    with pytest.raises(StorageUnavailable):
        await gc.submit("c")
