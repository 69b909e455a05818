"""`alertmanager.yml` loaded into frozen values, validated as Alertmanager validates it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from core_alerts.domain.errors import ConfigError
from core_alerts.domain.matchers import Matcher, MatcherSyntax
from core_alerts.routing import nodes
from core_alerts.routing.routeconfig import RouteConfig, parse_matcher_block, parse_route

_TOP_LEVEL = frozenset(
    {
        "global",
        "route",
        "receivers",
        "inhibit_rules",
        "time_intervals",
        "mute_time_intervals",
        "templates",
    }
)
_INHIBIT_KEYS = frozenset(
    {
        "source_match",
        "source_match_re",
        "source_matchers",
        "target_match",
        "target_match_re",
        "target_matchers",
        "equal",
    }
)


@dataclass(frozen=True, slots=True)
class Receiver:
    """A named receiver; its integration configs stay raw until the channels read them."""

    name: str
    configs: Mapping[str, Any]
    line: int


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """A named set of time ranges, kept as written for the muting work."""

    name: str
    time_intervals: tuple[Mapping[str, Any], ...]
    line: int


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    route: RouteConfig
    receivers: tuple[Receiver, ...]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    time_intervals: tuple[TimeInterval, ...] = ()
    templates: tuple[str, ...] = ()
    global_: Mapping[str, Any] = field(default_factory=dict)
    original: str = ""

    def receiver(self, name: str) -> Receiver:
        for receiver in self.receivers:
            if receiver.name == name:
                return receiver
        raise KeyError(name)


def load_config(text: str, *, matcher_syntax: MatcherSyntax = "classic") -> AlertmanagerConfig:
    """Parse and validate an `alertmanager.yml`; a bad file raises ConfigError naming the line.

    `matcher_syntax` reads `matchers:` strings as Alertmanager 0.25 (`classic`), as 0.27+ by
    default (`fallback`: classic, else UTF-8) or UTF-8 only (`utf8`)."""
    root = nodes.compose(text)
    if nodes.is_null(root):
        raise ConfigError("the configuration is empty")
    assert root is not None
    top = nodes.mapping(root, "the configuration", _TOP_LEVEL)
    if "route" not in top or nodes.is_null(top["route"]):
        raise nodes.fail(root, "no routes provided", field="route")
    config = AlertmanagerConfig(
        route=parse_route(top["route"], is_root=True, syntax=matcher_syntax),
        receivers=_receivers(top.get("receivers")),
        inhibit_rules=tuple(
            _inhibit_rule(n, matcher_syntax)
            for n in _items(top.get("inhibit_rules"), "inhibit_rules")
        ),
        time_intervals=_time_intervals(top),
        templates=tuple(
            nodes.scalar_text(n, "a template path")
            for n in _items(top.get("templates"), "templates")
        ),
        global_=_plain_mapping(top.get("global"), "global"),
        original=text,
    )
    _check_references(config, top["route"])
    return config


def load_config_file(path: str) -> AlertmanagerConfig:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    return load_config(text)


def _items(node: yaml.Node | None, what: str) -> list[Any]:
    return [] if node is None else nodes.sequence(node, what)


def _plain_mapping(node: yaml.Node | None, what: str) -> Mapping[str, Any]:
    if node is None:
        return {}
    nodes.mapping(node, what)
    value = nodes.plain(node)
    return value if isinstance(value, dict) else {}


def _receivers(node: yaml.Node | None) -> tuple[Receiver, ...]:
    receivers: list[Receiver] = []
    seen: set[str] = set()
    for item in _items(node, "receivers"):
        keys = nodes.mapping(item, "a receiver")
        name = nodes.scalar_text(keys["name"], "a receiver name") if "name" in keys else ""
        if not name:
            raise nodes.fail(item, "missing name in receiver", field="receivers")
        if name in seen:
            raise nodes.fail(item, f"notification config name {name!r} is not unique")
        seen.add(name)
        configs = {key: nodes.plain(value) for key, value in keys.items() if key != "name"}
        receivers.append(Receiver(name=name, configs=configs, line=nodes.line_of(item)))
    return tuple(receivers)


def _inhibit_rule(node: yaml.Node, syntax: MatcherSyntax) -> InhibitRule:
    keys = nodes.mapping(node, "an inhibit rule", _INHIBIT_KEYS)
    source = parse_matcher_block(keys, "source_match", "source_match_re", "source_matchers", syntax)
    target = parse_matcher_block(keys, "target_match", "target_match_re", "target_matchers", syntax)
    equal = tuple(
        nodes.scalar_text(n, "an equal label") for n in _items(keys.get("equal"), "equal")
    )
    return InhibitRule(tuple(source), tuple(target), equal, nodes.line_of(node))


def _time_intervals(top: Mapping[str, yaml.Node]) -> tuple[TimeInterval, ...]:
    intervals: list[TimeInterval] = []
    seen: set[str] = set()
    for section in ("mute_time_intervals", "time_intervals"):
        for item in _items(top.get(section), section):
            keys = nodes.mapping(item, "a time interval", frozenset({"name", "time_intervals"}))
            name = nodes.scalar_text(keys["name"], "a time interval name") if "name" in keys else ""
            if not name:
                raise nodes.fail(item, "missing name in time interval", field=section)
            if name in seen:
                raise nodes.fail(item, f"time interval {name!r} is not unique", field=section)
            seen.add(name)
            ranges = nodes.plain(keys["time_intervals"]) if "time_intervals" in keys else []
            intervals.append(TimeInterval(name, tuple(ranges or ()), nodes.line_of(item)))
    return tuple(intervals)


def _check_references(config: AlertmanagerConfig, node: yaml.Node) -> None:
    receivers = {r.name for r in config.receivers}
    intervals = {t.name for t in config.time_intervals}
    pending = [config.route]
    while pending:
        route = pending.pop()
        if route.receiver is not None and route.receiver not in receivers:
            raise ConfigError(
                f"line {route.line}: undefined receiver {route.receiver!r} used in route",
                field="receiver",
            )
        for name in (*route.mute_time_intervals, *route.active_time_intervals):
            if name not in intervals:
                raise ConfigError(
                    f"line {route.line}: undefined time interval {name!r} used in route"
                )
        pending.extend(route.routes)


__all__ = [
    "AlertmanagerConfig",
    "InhibitRule",
    "Receiver",
    "TimeInterval",
    "load_config",
    "load_config_file",
]
