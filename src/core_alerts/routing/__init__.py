"""Alertmanager-compatible routing: load `alertmanager.yml` and walk its route tree.

Owns the configuration model and the routing semantics (matchers, `continue`, inheritance,
grouping keys). It does not dispatch, group over time, or deliver notifications.
"""

from core_alerts.routing.config import (
    AlertmanagerConfig,
    InhibitRule,
    Receiver,
    TimeInterval,
    load_config,
    load_config_file,
)
from core_alerts.routing.durations import format_duration, parse_prometheus_duration
from core_alerts.routing.routeconfig import LABEL_NAME, RouteConfig
from core_alerts.routing.tree import RouteMatch, RouteNode, RouteOptions, RoutingTree

__all__ = [
    "LABEL_NAME",
    "AlertmanagerConfig",
    "InhibitRule",
    "Receiver",
    "RouteConfig",
    "RouteMatch",
    "RouteNode",
    "RouteOptions",
    "RoutingTree",
    "TimeInterval",
    "format_duration",
    "load_config",
    "load_config_file",
    "parse_prometheus_duration",
]
