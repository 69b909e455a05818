"""One `route:` node of `alertmanager.yml` as written (unset options stay None)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from core_alerts.domain.matchers import Matcher, MatcherSyntax, MatchOp, parse_matchers_as
from core_alerts.routing import nodes
from core_alerts.routing.durations import parse_prometheus_duration

# Alertmanager 0.25 label names (prometheus/common LabelNameRE).
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
GROUP_BY_ALL = "..."
_ROUTE_KEYS = frozenset(
    {
        "receiver",
        "group_by",
        "match",
        "match_re",
        "matchers",
        "continue",
        "routes",
        "group_wait",
        "group_interval",
        "repeat_interval",
        "mute_time_intervals",
        "active_time_intervals",
    }
)


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """A route as written; `None` means "inherit from the parent" (or the default at the root).

    `group_by_all` is `group_by: ['...']`; it is inherited like `group_by` unless a child sets
    its own label list.
    """

    receiver: str | None = None
    group_by: tuple[str, ...] | None = None
    group_by_all: bool = False
    matchers: tuple[Matcher, ...] = ()
    continue_: bool = False
    group_wait: float | None = None
    group_interval: float | None = None
    repeat_interval: float | None = None
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    line: int = 0


def parse_route(
    node: yaml.Node, *, is_root: bool = False, syntax: MatcherSyntax = "classic"
) -> RouteConfig:
    keys = nodes.mapping(node, "a route", _ROUTE_KEYS)
    matchers = parse_matcher_block(keys, "match", "match_re", "matchers", syntax)
    group_by, group_by_all = _group_by(keys.get("group_by"))
    route = RouteConfig(
        receiver=_text(keys, "receiver") or None,
        group_by=group_by,
        group_by_all=group_by_all,
        matchers=tuple(matchers),
        continue_=nodes.boolean(keys["continue"], "continue") if "continue" in keys else False,
        group_wait=_duration(keys, "group_wait"),
        group_interval=_duration(keys, "group_interval", nonzero=True),
        repeat_interval=_duration(keys, "repeat_interval", nonzero=True),
        mute_time_intervals=_names(keys, "mute_time_intervals"),
        active_time_intervals=_names(keys, "active_time_intervals"),
        routes=tuple(parse_route(child, syntax=syntax) for child in _children(keys)),
        line=nodes.line_of(node),
    )
    if is_root:
        _check_root(route, node)
    return route


def _check_root(route: RouteConfig, node: yaml.Node) -> None:
    if route.receiver is None:
        raise nodes.fail(node, "root route must specify a default receiver", field="receiver")
    if route.matchers:
        raise nodes.fail(node, "root route must not have any matchers", field="matchers")
    if route.mute_time_intervals:
        raise nodes.fail(node, "root route must not have any mute time intervals")
    if route.active_time_intervals:
        raise nodes.fail(node, "root route must not have any active time intervals")
    if route.continue_:
        raise nodes.fail(node, "cannot have continue in root route", field="continue")


def parse_matcher_block(
    keys: Mapping[str, yaml.Node],
    equal_key: str,
    regex_key: str,
    list_key: str,
    syntax: MatcherSyntax = "classic",
) -> list[Matcher]:
    """Legacy equality map + legacy regex map + the `matchers:` list, sorted as Alertmanager."""
    found: list[Matcher] = []
    for key, op in ((equal_key, MatchOp.EQ), (regex_key, MatchOp.RE)):
        for name_node, value_node in _pairs(keys.get(key), key):
            name = nodes.scalar_text(name_node, f"a label name in {key}")
            if not LABEL_NAME.match(name):
                raise nodes.fail(name_node, f"invalid label name {name!r}", field=key)
            value = nodes.scalar_text(value_node, f"the value of {name} in {key}")
            # Legacy regexes are stored anchored, as Alertmanager shows them.
            stored = value if op is MatchOp.EQ else f"^(?:{value})$"
            found.append(_matcher(value_node, name, op, stored))
    for item in nodes.sequence(keys[list_key], list_key) if list_key in keys else []:
        text = nodes.scalar_text(item, f"an entry of {list_key}")
        try:
            found.extend(parse_matchers_as(text, syntax))
        except ValueError as exc:
            raise nodes.fail(item, str(exc), field=list_key) from None
    order = list(MatchOp)
    return sorted(found, key=lambda m: (m.name, m.value, order.index(m.op)))


def _matcher(node: yaml.Node, name: str, op: MatchOp, value: str) -> Matcher:
    try:
        return Matcher(name, op, value)
    except ValueError as exc:
        raise nodes.fail(node, str(exc), field=name) from None


def _pairs(node: yaml.Node | None, what: str) -> list[tuple[Any, Any]]:
    if node is None or nodes.is_null(node):
        return []
    nodes.mapping(node, what)  # shape and duplicate-key checks
    return list(node.value)


def _text(keys: Mapping[str, yaml.Node], key: str) -> str:
    return nodes.scalar_text(keys[key], key) if key in keys else ""


def _children(keys: Mapping[str, yaml.Node]) -> list[Any]:
    return nodes.sequence(keys["routes"], "routes") if "routes" in keys else []


def _names(keys: Mapping[str, yaml.Node], key: str) -> tuple[str, ...]:
    items = nodes.sequence(keys[key], key) if key in keys else []
    return tuple(nodes.scalar_text(item, f"an entry of {key}") for item in items)


def _duration(keys: Mapping[str, yaml.Node], key: str, *, nonzero: bool = False) -> float | None:
    if key not in keys or nodes.is_null(keys[key]):
        return None
    node = keys[key]
    try:
        seconds = parse_prometheus_duration(nodes.scalar_text(node, key))
    except ValueError as exc:
        raise nodes.fail(node, str(exc), field=key) from None
    if nonzero and seconds == 0:
        raise nodes.fail(node, f"{key} cannot be zero", field=key)
    return seconds


def _group_by(node: yaml.Node | None) -> tuple[tuple[str, ...] | None, bool]:
    if node is None:
        return None, False
    labels: list[str] = []
    for item in nodes.sequence(node, "group_by"):
        label = nodes.scalar_text(item, "a group_by label")
        if label != GROUP_BY_ALL and not LABEL_NAME.match(label):
            message = f"invalid label name {label!r} in group_by list"
            raise nodes.fail(item, message, field="group_by")
        if label in labels:
            raise nodes.fail(item, f"duplicated label {label!r} in group_by", field="group_by")
        labels.append(label)
    if GROUP_BY_ALL in labels:
        if len(labels) > 1:
            raise nodes.fail(
                node,
                "cannot have wildcard group_by (`...`) and other labels at the same time",
                field="group_by",
            )
        return None, True
    # Alertmanager 0.25 treats an empty list like an absent one: the parent's group_by applies.
    return (tuple(labels) or None), False
