"""Alertmanager-compatible routing: load `alertmanager.yml`, walk its route tree, and dispatch.

Owns the configuration model, the routing semantics (matchers, `continue`, inheritance,
grouping keys), time intervals, and the dispatcher (aggregation groups and their timers).
It hands group flushes on as domain values; it does not decide dedup or deliver notifications.
"""

from core_alerts.routing.config import (
    AlertmanagerConfig,
    InhibitRule,
    Receiver,
    TimeInterval,
    load_config,
    load_config_file,
)
from core_alerts.routing.dispatch import Dispatcher
from core_alerts.routing.durations import format_duration, parse_prometheus_duration
from core_alerts.routing.groups import GroupView, group_key, label_set_text
from core_alerts.routing.routeconfig import LABEL_NAME, RouteConfig
from core_alerts.routing.timeintervals import CompiledInterval, TimeRange, compile_time_intervals
from core_alerts.routing.timers import GroupTimerStore
from core_alerts.routing.tree import RouteMatch, RouteNode, RouteOptions, RoutingTree

__all__ = [
    "LABEL_NAME",
    "AlertmanagerConfig",
    "CompiledInterval",
    "Dispatcher",
    "GroupTimerStore",
    "GroupView",
    "InhibitRule",
    "Receiver",
    "RouteConfig",
    "RouteMatch",
    "RouteNode",
    "RouteOptions",
    "RoutingTree",
    "TimeInterval",
    "TimeRange",
    "compile_time_intervals",
    "format_duration",
    "group_key",
    "label_set_text",
    "load_config",
    "load_config_file",
    "parse_prometheus_duration",
]
