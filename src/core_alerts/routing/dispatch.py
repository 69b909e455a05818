"""The dispatcher: alerts into aggregation groups, and each group's flush when its timer is due.

Alertmanager's dispatch (0.25): a new group waits `group_wait`, or flushes at once for an alert
that started more than `group_wait` ago; after the first flush it ticks every `group_interval`.
Every tick hands the whole group to `on_flush`, which decides per integration whether it is news.
Due times sit in one heap, so a tick costs the groups that are due, not all groups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import structlog

from core_alerts.domain.clock import Clock
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.notification import GroupFlush, GroupMember
from core_alerts.routing.config import TimeInterval
from core_alerts.routing.groups import (
    AggregationGroup,
    GroupId,
    GroupView,
    TenantGroups,
    TrackedAlert,
    group_key,
)
from core_alerts.routing.timeintervals import compile_time_intervals
from core_alerts.routing.timers import DueHeap, GroupTimerStore, TimerWrites
from core_alerts.routing.tree import RouteMatch, RoutingTree

log = structlog.get_logger(__name__)
_TICKS_AT_ONCE = 512

_ERROR_PAUSE = 1.0
"""Seconds the run loop waits after an unexpected error, so a persistent fault cannot spin."""


class Dispatcher:
    """Per-tenant aggregation groups and their timers. Tests drive it with run_due()."""

    def __init__(
        self,
        clock: Clock,
        on_flush: Callable[[GroupFlush], Awaitable[None]],
        timers: GroupTimerStore | None = None,
        *,
        write_behind: bool = False,
    ) -> None:
        """`write_behind`: timer writes go to the store in the background, coalesced, so
        observe() and run_due() never wait for the disk (the service sets it; a crash then
        loses at most the writes in flight: groups restart with group_wait, and the
        notification log still keeps them from re-paging)."""
        self._clock = clock
        self._on_flush = on_flush
        self._timers = timers
        self._tenants: dict[str, TenantGroups] = {}
        self._heap = DueHeap()
        self._writes = TimerWrites()
        self._write_behind = write_behind
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._sleep_until: float | None = None
        """While run() sleeps: the due time it sleeps for (inf: none); an earlier one wakes it."""

    # -- configuration -------------------------------------------------------------------

    def set_tree(
        self, tenant_id: str, tree: RoutingTree, time_intervals: Mapping[str, TimeInterval]
    ) -> None:
        """Install or replace a tenant's routing; members are re-routed at once.

        Groups that keep their key keep their timers; the others are dropped. Timer writes
        follow with the next observe(), run_due() or the run loop's wake-up.
        """
        compiled = compile_time_intervals(list(time_intervals.values()))
        old = self._tenants.get(tenant_id)
        tenant = TenantGroups(tenant_id, tree, compiled)
        self._tenants[tenant_id] = tenant
        if old is not None:
            tenant.spare = dict(old.groups)
            now = self._clock.now()
            for alert in old.alerts.values():
                alert.groups = set()
                self._place(tenant, alert, now)
            self._drop_spares(tenant)
        self._wake_loop(None)

    def forget(self, tenant_id: str) -> None:
        """Stop grouping a tenant's alerts (its config sends nothing any more): its groups,
        their timers and the alerts it tracked go, so none is stale if it sends again."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return
        for group in list(tenant.groups.values()):
            self._drop(group)
        tenant.alerts.clear()

    # -- alerts in -----------------------------------------------------------------------

    async def observe(self, events: Sequence[AlertChanged]) -> None:
        now = self._clock.now()
        for event in events:
            tenant = self._tenants.get(event.tenant_id)
            if tenant is not None and not _unchanged(tenant, event):
                self._place(tenant, tenant.tracked(event), now)
        await self._persist()

    async def restore(
        self, alerts: Iterable[AlertChanged], owed: Collection[tuple[str, str, str]]
    ) -> None:
        """Rebuild groups after a start from stored timers, the current alerts, and the
        resolves the notification log still owes ((group_key, receiver, alert_id))."""
        stored = await self._timers.load_groups() if self._timers is not None else []
        for state in stored:
            tenant = self._tenants.get(state.tenant_id)
            gid = (state.group_key, state.receiver)
            if tenant is not None and gid not in tenant.groups:
                tenant.spare[gid] = state
        owed_set = set(owed)
        now = self._clock.now()
        for event in alerts:
            tenant = self._tenants.get(event.tenant_id)
            if tenant is None:
                continue
            alert = tenant.tracked(event)
            # A resolve goes only where a notification carried the alert firing.
            allowed = _owed(owed_set, alert.alert_id) if alert.resolved else None
            self._place(tenant, alert, now, allowed)
        for tenant in self._tenants.values():
            self._drop_spares(tenant)
        await self._persist()

    def _place(
        self,
        tenant: TenantGroups,
        alert: TrackedAlert,
        now: float,
        allowed: Callable[[GroupId], bool] | None = None,
    ) -> None:
        """Make the alert a member of exactly the groups its labels route to now."""
        targets: dict[GroupId, RouteMatch] = {}
        for match in tenant.tree.route(alert.labels):
            gid = (group_key(match.route_key, match.group_labels), match.receiver)
            if allowed is None or allowed(gid):
                targets.setdefault(gid, match)
        for gid in alert.groups - targets.keys():
            group = tenant.groups.get(gid)
            if group is not None:
                group.members.pop(alert.alert_id, None)
        alert.groups = set(targets)
        if not targets:
            tenant.alerts.pop(alert.alert_id, None)
            return
        tenant.alerts[alert.alert_id] = alert
        member = alert.member()
        for gid, match in targets.items():
            group = tenant.groups.get(gid) or self._new_group(tenant, gid, match, now)
            group.route = match
            group.members[alert.alert_id] = member
            # Alertmanager 0.25: an alert older than group_wait flushes a new group at once,
            # checked on every insert until the first flush.
            started = alert.starts_at
            old = started is not None and started + match.group_wait < now
            if old and not group.flushed and group.next_flush_at > now:
                self._arm(group, now)

    def _new_group(
        self, tenant: TenantGroups, gid: GroupId, match: RouteMatch, now: float
    ) -> AggregationGroup:
        spare = tenant.spare.pop(gid, None)
        if isinstance(spare, AggregationGroup):  # re-routed: timers and first-flush state stay
            spare.members = {}
            group = spare
        elif spare is not None:  # restored: the stored timer, no new group_wait
            group = AggregationGroup(
                tenant_id=tenant.tenant_id,
                key=gid[0],
                route=match,
                created_at=spare.created_at,
                next_flush_at=spare.next_flush_at,
                flushed=spare.flushed,
            )
            self._push(group)
        else:
            group = AggregationGroup(
                tenant_id=tenant.tenant_id,
                key=gid[0],
                route=match,
                created_at=now,
                next_flush_at=now + match.group_wait,
            )
            self._push(group)
            self._writes.save(group)
        tenant.groups[gid] = group
        return group

    def _drop_spares(self, tenant: TenantGroups) -> None:
        for gid, spare in tenant.spare.items():
            if isinstance(spare, AggregationGroup):
                spare.live = False
            self._writes.delete(tenant.tenant_id, gid)
        tenant.spare = {}

    # -- timers ----------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Flush every group due now; returns how many flushes went to on_flush."""
        now = self._clock.now()
        flushes = 0
        due = self._heap.pop_due(now)
        # The ticks run together, so on_flush can handle a burst of groups in one batch.
        for start in range(0, len(due), _TICKS_AT_ONCE):
            ticks = [self._tick(g, now) for g in due[start : start + _TICKS_AT_ONCE]]
            flushes += sum(await asyncio.gather(*ticks))
        live = sum(len(t.groups) for t in self._tenants.values())
        self._heap.compact((g for t in self._tenants.values() for g in t.groups.values()), live)
        await self._persist()
        return flushes

    async def _tick(self, group: AggregationGroup, now: float) -> int:
        if not group.live:  # a re-route during the flushes before it dropped it
            return 0
        if not group.members:
            self._drop(group)
            return 0
        # Re-arm before the flush, as Alertmanager does: a slow on_flush delays no tick.
        self._arm(group, group.next_tick(now))
        group.flushed = True
        members = group.sorted_members()
        if self._tenants[group.tenant_id].muted(group.route, now):
            # Muted by time: nothing is sent, and Alertmanager still forgets the resolved.
            self._forget_resolved(group, members)
            return 0
        try:
            await self._on_flush(group.flush(members, now))
        except Exception:
            log.exception(
                "group flush failed; its resolved alerts stay for the next tick",
                tenant_id=group.tenant_id,
                group_key=group.key,
            )
        else:
            self._forget_resolved(group, members)
        return 1

    def _forget_resolved(self, group: AggregationGroup, flushed: tuple[GroupMember, ...]) -> None:
        # Looked up after the flush: a new config may have replaced the tenant meanwhile.
        tenant = self._tenants[group.tenant_id]
        if not group.live:
            return
        for member in flushed:
            # Only if unchanged since the flush: an alert that fired again meanwhile stays.
            if member.resolved and group.members.get(member.alert_id) == member:
                tenant.forget(group, member.alert_id)
        if not group.members:
            self._drop(group)

    def _drop(self, group: AggregationGroup) -> None:
        group.live = False
        tenant = self._tenants[group.tenant_id]
        if tenant.groups.get(group.id) is group:
            del tenant.groups[group.id]
        self._writes.delete(group.tenant_id, group.id)

    def _arm(self, group: AggregationGroup, due: float) -> None:
        group.next_flush_at = due
        self._push(group)
        self._writes.save(group)

    def _push(self, group: AggregationGroup) -> None:
        self._heap.push(group)
        self._wake_loop(group.next_flush_at)

    def next_due(self) -> float | None:
        """When the earliest group is due (None: no groups)."""
        return self._heap.earliest()

    # -- the production loop ---------------------------------------------------------------

    def _wake_loop(self, due: float | None) -> None:
        """Wake run() for a due time earlier than it sleeps for (None: for timer writes)."""
        if self._sleep_until is None:
            return
        if due is None and not self._writes:
            return
        if due is None or due < self._sleep_until:
            self._wake.set()

    async def _persist(self) -> None:
        if not self._write_behind:
            await self._writes.write(self._timers)
        elif self._writes and (self._writer is None or self._writer.done()):
            self._writer = asyncio.create_task(self._write_all())

    async def _write_all(self) -> None:
        # What piled up during a write goes in the next one; a failed write waits for the
        # next change (it is kept).
        while self._writes and await self._writes.write(self._timers):
            pass

    async def flush_timers(self) -> None:
        """Wait until every timer change so far is written (at stop)."""
        if self._writer is not None:
            await self._writer
        await self._writes.write(self._timers)

    async def run(self, stop: asyncio.Event) -> None:
        """Sleep until the next due time (or an earlier one appears), flush, repeat."""
        stopping: asyncio.Task[Any] = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                await self._sleep(stopping)
                if stop.is_set():
                    break
                try:
                    await self.run_due()
                except Exception:
                    log.exception("dispatcher tick failed")
                    await asyncio.wait({stopping}, timeout=_ERROR_PAUSE)
        finally:
            stopping.cancel()
            await self.flush_timers()

    async def _sleep(self, stopping: asyncio.Task[Any]) -> None:
        self._wake.clear()
        due = self.next_due()
        delay = None if due is None else due - self._clock.now()
        if delay is not None and delay <= 0:
            return
        self._sleep_until = float("inf") if due is None else due
        woken: asyncio.Task[Any] = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait(
                {stopping, woken}, timeout=delay, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()
            self._sleep_until = None

    # -- reading ---------------------------------------------------------------------------

    def groups(self, tenant_id: str) -> list[GroupView]:
        """The tenant's non-empty groups, ordered by group key and receiver."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return []
        groups = (tenant.groups[gid] for gid in sorted(tenant.groups))
        return [group.view() for group in groups if group.members]


def _unchanged(tenant: TenantGroups, event: AlertChanged) -> bool:
    """A repeat that changes nothing the dispatcher keeps (a storm is mostly these): same
    status and start, and every group it is in has had its first flush, so the old-alert
    shortcut cannot apply. Its labels are those of its fingerprint: its routes are the same."""
    known = tenant.alerts.get(event.alert_id)
    if known is None or known.resolved != (event.status == "resolved"):
        return False
    if known.starts_at != event.starts_at or not known.groups:
        return False
    groups = tenant.groups
    return all(gid in groups and groups[gid].flushed for gid in known.groups)


def _owed(owed: Collection[tuple[str, str, str]], alert_id: str) -> Callable[[GroupId], bool]:
    return lambda gid: (gid[0], gid[1], alert_id) in owed
