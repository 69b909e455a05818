"""The routing tree: which routes (receiver, grouping, timers) an alert's labels reach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core_alerts.domain.matchers import Matcher
from core_alerts.routing.config import AlertmanagerConfig
from core_alerts.routing.quoting import go_quote
from core_alerts.routing.routeconfig import RouteConfig

DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """A route's options after inheritance from its ancestors."""

    receiver: str
    group_by: tuple[str, ...] = ()
    group_by_all: bool = False
    group_wait: float = DEFAULT_GROUP_WAIT
    group_interval: float = DEFAULT_GROUP_INTERVAL
    repeat_interval: float = DEFAULT_REPEAT_INTERVAL
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteNode:
    options: RouteOptions
    matchers: tuple[Matcher, ...]
    continue_: bool
    children: tuple[RouteNode, ...]
    key: str
    """Alertmanager's route key: the matchers of every node from the root, e.g. `{}/{team="db"}`."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """One route an alert reached, with what grouping and notification need from it."""

    receiver: str
    group_by: tuple[str, ...]
    group_by_all: bool
    group_labels: Mapping[str, str]
    group_wait: float
    group_interval: float
    repeat_interval: float
    mute_time_intervals: tuple[str, ...]
    active_time_intervals: tuple[str, ...]
    route_key: str


class RoutingTree:
    """Alertmanager's routing: depth-first, first matching child wins unless `continue`."""

    def __init__(self, root: RouteConfig) -> None:
        self.root = _build(root, None, None)

    @classmethod
    def from_config(cls, config: AlertmanagerConfig) -> RoutingTree:
        return cls(config.route)

    def route(self, labels: Mapping[str, str]) -> list[RouteMatch]:
        """The matched routes in tree order (duplicates kept), as `amtool config routes test`."""
        return [_route_match(node, labels) for node in _match(self.root, labels)]

    def receivers(self, labels: Mapping[str, str]) -> list[str]:
        return [node.options.receiver for node in _match(self.root, labels)]


def _match(node: RouteNode, labels: Mapping[str, str]) -> list[RouteNode]:
    if not node.matches(labels):
        return []
    found: list[RouteNode] = []
    for child in node.children:
        reached = _match(child, labels)
        found.extend(reached)
        if reached and not child.continue_:
            break
    # A node none of whose children match is itself the match.
    return found or [node]


def _route_match(node: RouteNode, labels: Mapping[str, str]) -> RouteMatch:
    opts = node.options
    if opts.group_by_all:
        group_labels = dict(labels)
    else:
        group_labels = {name: labels[name] for name in opts.group_by if name in labels}
    return RouteMatch(
        receiver=opts.receiver,
        group_by=opts.group_by,
        group_by_all=opts.group_by_all,
        group_labels=group_labels,
        group_wait=opts.group_wait,
        group_interval=opts.group_interval,
        repeat_interval=opts.repeat_interval,
        mute_time_intervals=opts.mute_time_intervals,
        active_time_intervals=opts.active_time_intervals,
        route_key=node.key,
    )


def _build(config: RouteConfig, parent: RouteOptions | None, parent_key: str | None) -> RouteNode:
    options = _inherit(config, parent)
    own_key = "{" + ",".join(_matcher_text(m) for m in config.matchers) + "}"
    key = own_key if parent_key is None else f"{parent_key}/{own_key}"
    children = tuple(_build(child, options, key) for child in config.routes)
    return RouteNode(options, config.matchers, config.continue_, children, key)


def _inherit(config: RouteConfig, parent: RouteOptions | None) -> RouteOptions:
    base = parent or RouteOptions(receiver="")
    group_by, group_by_all = base.group_by, base.group_by_all
    if config.group_by is not None:
        group_by, group_by_all = tuple(sorted(config.group_by)), False
    elif config.group_by_all:
        group_by_all = True
    return RouteOptions(
        receiver=config.receiver or base.receiver,
        group_by=group_by,
        group_by_all=group_by_all,
        group_wait=_pick(config.group_wait, base.group_wait),
        group_interval=_pick(config.group_interval, base.group_interval),
        repeat_interval=_pick(config.repeat_interval, base.repeat_interval),
        # Time intervals are per node in Alertmanager, never inherited.
        mute_time_intervals=config.mute_time_intervals,
        active_time_intervals=config.active_time_intervals,
    )


def _pick(own: float | None, inherited: float) -> float:
    return inherited if own is None else own


def _matcher_text(matcher: Matcher) -> str:
    return f"{matcher.name}{matcher.op.value}{go_quote(matcher.value)}"
