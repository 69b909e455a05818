"""Aggregation groups and a tenant's share of them: keys, members, timers, time muting."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from core_alerts.domain.events import AlertChanged
from core_alerts.domain.notification import GroupFlush, GroupMember
from core_alerts.routing.quoting import go_quote
from core_alerts.routing.timeintervals import CompiledInterval
from core_alerts.routing.tree import RouteMatch, RoutingTree
from core_alerts.store.notify import GroupState

GroupId = tuple[str, str]
"""(group_key, receiver): a group within one tenant."""


def label_set_text(labels: Mapping[str, str]) -> str:
    """Prometheus' LabelSet.String(): `{a="1", b="2"}`, names sorted."""
    return "{" + ", ".join(f"{name}={go_quote(labels[name])}" for name in sorted(labels)) + "}"


def group_key(route_key: str, group_labels: Mapping[str, str]) -> str:
    return f"{route_key}:{label_set_text(group_labels)}"


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group as the API shows it (Alertmanager's /api/v2/alerts/groups)."""

    tenant_id: str
    group_key: str
    route_key: str
    receiver: str
    labels: Mapping[str, str]
    members: tuple[GroupMember, ...]
    next_flush_at: float
    flushed: bool


@dataclass(eq=False, slots=True)
class AggregationGroup:
    """One (route, group labels) group of a tenant; members keyed by alert id."""

    tenant_id: str
    key: str
    route: RouteMatch
    created_at: float
    next_flush_at: float
    flushed: bool = False
    members: dict[str, GroupMember] = field(default_factory=dict)
    live: bool = True
    """False once dropped; stale heap entries and in-flight flushes check it."""
    heap_seq: int = -1
    """The sequence number of this group's current heap entry; older entries are stale."""

    @property
    def id(self) -> GroupId:
        return self.key, self.route.receiver

    def sorted_members(self) -> tuple[GroupMember, ...]:
        return tuple(sorted(self.members.values(), key=lambda m: (m.fingerprint, m.alert_id)))

    def flush(self, members: tuple[GroupMember, ...], at: float) -> GroupFlush:
        return GroupFlush(
            tenant_id=self.tenant_id,
            group_key=self.key,
            route_key=self.route.route_key,
            receiver=self.route.receiver,
            group_labels=dict(self.route.group_labels),
            members=members,
            repeat_interval=self.route.repeat_interval,
            at=at,
        )

    def next_tick(self, now: float) -> float:
        """The next group_interval tick after `now`, counted from the current due time."""
        interval = self.route.group_interval
        tick = self.next_flush_at + interval
        if tick <= now:
            tick += interval * (math.floor((now - tick) / interval) + 1)
        return tick

    def state(self) -> GroupState:
        return GroupState(
            tenant_id=self.tenant_id,
            group_key=self.key,
            route_key=self.route.route_key,
            receiver=self.route.receiver,
            group_labels=dict(self.route.group_labels),
            created_at=self.created_at,
            next_flush_at=self.next_flush_at,
            flushed=self.flushed,
        )

    def view(self) -> GroupView:
        return GroupView(
            tenant_id=self.tenant_id,
            group_key=self.key,
            route_key=self.route.route_key,
            receiver=self.route.receiver,
            labels=dict(self.route.group_labels),
            members=self.sorted_members(),
            next_flush_at=self.next_flush_at,
            flushed=self.flushed,
        )


@dataclass(slots=True)
class TrackedAlert:
    """What the dispatcher keeps of an alert while it is a member of some group."""

    alert_id: str
    fingerprint: str
    labels: Mapping[str, str]
    starts_at: float | None
    resolved: bool
    groups: set[GroupId] = field(default_factory=set)

    def member(self) -> GroupMember:
        return GroupMember(
            alert_id=self.alert_id, fingerprint=self.fingerprint, resolved=self.resolved
        )


@dataclass(slots=True)
class TenantGroups:
    """One tenant's routing, time intervals, groups, and the alerts that are their members."""

    tenant_id: str
    tree: RoutingTree
    intervals: dict[str, CompiledInterval]
    groups: dict[GroupId, AggregationGroup] = field(default_factory=dict)
    alerts: dict[str, TrackedAlert] = field(default_factory=dict)
    spare: dict[GroupId, AggregationGroup | GroupState] = field(default_factory=dict)
    """Groups whose timers a re-route or restore may take over (same key); the rest go."""

    def tracked(self, event: AlertChanged) -> TrackedAlert:
        """The event's alert, still knowing the groups it was in."""
        known = self.alerts.get(event.alert_id)
        return TrackedAlert(
            alert_id=event.alert_id,
            fingerprint=event.fingerprint,
            labels=dict(event.labels),
            starts_at=event.starts_at,
            resolved=event.status == "resolved",
            groups=set() if known is None else known.groups,
        )

    def forget(self, group: AggregationGroup, alert_id: str) -> None:
        """Remove a member; the alert is forgotten once it is in no group."""
        group.members.pop(alert_id, None)
        alert = self.alerts.get(alert_id)
        if alert is not None:
            alert.groups.discard(group.id)
            if not alert.groups:
                del self.alerts[alert_id]

    def muted(self, route: RouteMatch, now: float) -> bool:
        """Alertmanager's time muting: a mute interval is active, or no active one is."""
        if any(self._active(name, now) for name in route.mute_time_intervals):
            return True
        names = route.active_time_intervals
        return bool(names) and not any(self._active(name, now) for name in names)

    def _active(self, name: str, now: float) -> bool:
        interval = self.intervals.get(name)
        return interval is not None and interval.active(now)
