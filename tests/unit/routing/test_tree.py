"""Routing semantics: depth-first, continue, inheritance, legacy matchers, group_by '...'."""

from __future__ import annotations

from core_alerts.routing import RoutingTree, load_config

TREE = """\
route:
  receiver: root
  group_by: [alertname]
  group_wait: 10s
  routes:
  - matchers: ['team="db"']
    receiver: db
    group_by: ['...']
    routes:
    - matchers: ['severity="critical"']
      receiver: db-page
      continue: true
      group_interval: 1m
    - match: {env: prod}
      receiver: db-prod
    - matchers: ['service="redis"']
      group_by: []
  - match_re: {team: 'web|api'}
    receiver: web
    group_by: [cluster]
    repeat_interval: 1h
    routes:
    - matchers: ['env!~"prod.*"']
      receiver: web-nonprod
  - matchers: ['instance=~"x"']
    receiver: exact-x
receivers: [{name: root}, {name: db}, {name: db-page}, {name: db-prod}, {name: web},
            {name: web-nonprod}, {name: exact-x}]
"""


def _tree() -> RoutingTree:
    return RoutingTree.from_config(load_config(TREE))


def test_no_match_goes_to_the_root() -> None:
    assert _tree().receivers({}) == ["root"]
    assert _tree().receivers({"team": "nobody"}) == ["root"]


def test_first_matching_child_wins_and_continue_tries_the_next() -> None:
    tree = _tree()
    assert tree.receivers({"team": "db", "env": "prod"}) == ["db-prod"]
    assert tree.receivers({"team": "db", "severity": "critical", "env": "prod"}) == [
        "db-page",
        "db-prod",
    ]
    # continue never falls back to the parent: critical alone stops at db-page.
    assert tree.receivers({"team": "db", "severity": "critical"}) == ["db-page"]


def test_a_node_whose_children_do_not_match_is_the_match() -> None:
    [match] = _tree().route({"team": "db", "alertname": "A"})
    assert match.receiver == "db"
    assert match.route_key == '{}/{team="db"}'


def test_options_are_inherited() -> None:
    page, prod = _tree().route({"team": "db", "severity": "critical", "env": "prod"})
    assert (page.group_wait, page.group_interval, page.repeat_interval) == (10.0, 60.0, 14400.0)
    assert (prod.group_wait, prod.group_interval) == (10.0, 300.0)
    [redis] = _tree().route({"team": "db", "service": "redis", "a": "1"})
    assert redis.receiver == "db"  # no receiver of its own


def test_group_by_all_and_empty_group_by_inherit() -> None:
    labels = {"team": "db", "service": "redis", "alertname": "X"}
    [match] = _tree().route(labels)
    assert match.group_by_all
    assert match.group_labels == labels
    [web] = _tree().route({"team": "web", "env": "prod", "cluster": "c1", "alertname": "X"})
    assert (web.receiver, web.group_by, dict(web.group_labels)) == (
        "web",
        ("cluster",),
        {"cluster": "c1"},
    )
    assert web.repeat_interval == 3600.0


def test_legacy_match_re_and_regexes_are_anchored() -> None:
    tree = _tree()
    assert tree.receivers({"team": "api", "env": "dev"}) == ["web-nonprod"]
    assert tree.receivers({"team": "apix", "env": "dev"}) == ["root"]
    assert tree.receivers({"instance": "x"}) == ["exact-x"]
    assert tree.receivers({"instance": "xx"}) == ["root"]
    # An absent label is the empty string: env!~"prod.*" matches an alert without env.
    assert tree.receivers({"team": "web"}) == ["web-nonprod"]
