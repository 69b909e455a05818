"""Group timers: the due-time heap, and the writes of timers that a restart must find."""

from __future__ import annotations

import builtins
import heapq
import itertools
from collections.abc import Iterable, Sequence
from typing import Protocol

import structlog

from core_alerts.routing.groups import AggregationGroup, GroupId
from core_alerts.store.notify import GroupState

log = structlog.get_logger(__name__)

_Entry = tuple[float, int, AggregationGroup]


class GroupTimerStore(Protocol):
    """Where group timers survive a restart (the group part of NotifyStore)."""

    async def save_groups(self, groups: Sequence[GroupState]) -> None: ...

    async def delete_groups(self, tenant_id: str, keys: Sequence[tuple[str, str]]) -> None: ...

    async def load_groups(self) -> builtins.list[GroupState]: ...


class DueHeap:
    """Groups by due time. Re-arming pushes a new entry; the old one goes stale."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, group: AggregationGroup) -> None:
        group.heap_seq = next(self._seq)
        heapq.heappush(self._entries, (group.next_flush_at, group.heap_seq, group))

    def pop_due(self, now: float) -> list[AggregationGroup]:
        due = []
        while self._entries and self._entries[0][0] <= now:
            entry = heapq.heappop(self._entries)
            if _current(entry):
                due.append(entry[2])
        return due

    def earliest(self) -> float | None:
        while self._entries and not _current(self._entries[0]):
            heapq.heappop(self._entries)
        return self._entries[0][0] if self._entries else None

    def compact(self, live: Iterable[AggregationGroup], count: int) -> None:
        """Rebuild from the live groups when stale entries dominate."""
        if len(self._entries) > 2 * count + 1024:
            self._entries = [(g.next_flush_at, g.heap_seq, g) for g in live]
            heapq.heapify(self._entries)


def _current(entry: _Entry) -> bool:
    _, seq, group = entry
    return group.live and group.heap_seq == seq


class TimerWrites:
    """Timer changes not yet written: one save and one delete per tenant per write."""

    def __init__(self) -> None:
        self._save: dict[tuple[str, GroupId], AggregationGroup] = {}
        self._delete: dict[str, set[GroupId]] = {}

    def save(self, group: AggregationGroup) -> None:
        self._delete.get(group.tenant_id, set()).discard(group.id)
        self._save[(group.tenant_id, group.id)] = group

    def delete(self, tenant_id: str, gid: GroupId) -> None:
        self._save.pop((tenant_id, gid), None)
        self._delete.setdefault(tenant_id, set()).add(gid)

    def __bool__(self) -> bool:
        return bool(self._save) or any(self._delete.values())

    async def write(self, store: GroupTimerStore | None) -> bool:
        """Write what is owed; on a store error keep it for the next write, log, and
        return False."""
        saves, deletes = self._save, self._delete
        self._save, self._delete = {}, {}
        if store is None:
            return True
        try:
            for tenant_id, gids in deletes.items():
                if gids:
                    await store.delete_groups(tenant_id, sorted(gids))
                    deletes[tenant_id] = set()
            states = [g.state() for g in saves.values() if g.live]
            if states:
                await store.save_groups(states)
            saves = {}
        except Exception:
            log.exception("could not write aggregation group timers")
            self._requeue(saves, deletes)
            return False
        return True

    def _requeue(
        self, saves: dict[tuple[str, GroupId], AggregationGroup], deletes: dict[str, set[GroupId]]
    ) -> None:
        # Changes made while the write was in flight are newer: they win.
        for key, group in saves.items():
            if key not in self._save and key[1] not in self._delete.get(key[0], set()):
                self._save[key] = group
        for tenant_id, gids in deletes.items():
            pending = self._delete.setdefault(tenant_id, set())
            pending |= {g for g in gids if (tenant_id, g) not in self._save}
