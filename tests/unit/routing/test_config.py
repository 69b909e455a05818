"""Loading alertmanager.yml: structure, defaults, and errors that name the line."""

from __future__ import annotations

import pytest

from core_alerts.domain.errors import ConfigError
from core_alerts.domain.matchers import MatchOp
from core_alerts.routing import load_config, parse_prometheus_duration

GOOD = """\
global:
  resolve_timeout: 5m
templates: ['/etc/am/*.tmpl']
route:
  receiver: default
  group_by: [alertname]
  routes:
  - match: {team: db}
    match_re: {service: 'mysql|pg'}
    matchers: ['env!="dev"']
    receiver: db
    mute_time_intervals: [nights]
receivers:
- name: default
- name: db
  webhook_configs:
  - url: http://127.0.0.1:9/hook
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_match: {severity: warning}
  equal: [cluster]
time_intervals:
- name: nights
  time_intervals:
  - times: [{start_time: '22:00', end_time: '24:00'}]
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(text)
    return info.value.message


def test_loads_every_section() -> None:
    config = load_config(GOOD)
    child = config.route.routes[0]
    assert [(m.name, m.op, m.value) for m in child.matchers] == [
        ("env", MatchOp.NE, "dev"),
        ("service", MatchOp.RE, "^(?:mysql|pg)$"),
        ("team", MatchOp.EQ, "db"),
    ]
    assert child.mute_time_intervals == ("nights",)
    assert config.receiver("db").configs == {
        "webhook_configs": [{"url": "http://127.0.0.1:9/hook"}]
    }
    rule = config.inhibit_rules[0]
    assert [repr(m) for m in rule.source_matchers] == ['severity="critical"']
    assert [repr(m) for m in rule.target_matchers] == ['severity="warning"']
    assert rule.equal == ("cluster",)
    assert [t.name for t in config.time_intervals] == ["nights"]
    assert config.templates == ("/etc/am/*.tmpl",)
    assert config.global_ == {"resolve_timeout": "5m"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("route: {}\nreceivers: [{name: a}]\n", "line 1: root route must specify a default"),
        (
            "route:\n  receiver: a\n  matchers: ['x=1']\nreceivers: [{name: a}]\n",
            "line 2: root route must not have any matchers",
        ),
        (
            "route:\n  receiver: a\n  continue: true\nreceivers: [{name: a}]\n",
            "line 2: cannot have continue in root route",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - receiver: b\nreceivers: [{name: a}]\n",
            "line 4: undefined receiver 'b' used in route",
        ),
        (
            "route:\n  receiver: a\n  group_wait: 5x\nreceivers: [{name: a}]\n",
            "line 3: not a valid duration string: '5x'",
        ),
        (
            "route:\n  receiver: a\n  group_interval: 0s\nreceivers: [{name: a}]\n",
            "line 3: group_interval cannot be zero",
        ),
        (
            "route:\n  receiver: a\n  group_by: ['...', x]\nreceivers: [{name: a}]\n",
            "line 3: cannot have wildcard group_by",
        ),
        (
            "route:\n  receiver: a\n  group_by: [x, x]\nreceivers: [{name: a}]\n",
            "line 3: duplicated label 'x' in group_by",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - matchers: ['x=~\"(\"']\nreceivers: [{name: a}]\n",
            "line 4: error parsing regexp: missing closing )",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - match_re: {x: '['}\nreceivers: [{name: a}]\n",
            "line 4: error parsing regexp: missing closing ]",
        ),
        (
            "route:\n  receiver: a\n  recevier: b\nreceivers: [{name: a}]\n",
            "line 3: field recevier not found in a route",
        ),
        ("route:\n  receiver: a\nreceivers:\n- name: a\n- name: a\n", "line 5: notification"),
        (
            "route:\n  receiver: a\n  routes:\n  - mute_time_intervals: [x]\nreceivers: [{name: a}]\n",
            "line 4: undefined time interval 'x' used in route",
        ),
        ("route:\n  receiver: a\n   bad: [\n", "line 3: invalid YAML"),
        ("receivers: [{name: a}]\n", "line 1: no routes provided"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    assert _error(text).startswith(message)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0), ("1d", 86400.0), ("1w", 604800)],
)
def test_prometheus_durations(text: str, seconds: float) -> None:
    assert parse_prometheus_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30m1h", "1.5h", "-1s", "5 m"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_prometheus_duration(text)
