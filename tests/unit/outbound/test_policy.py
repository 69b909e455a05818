"""The outbound policy: allow-list parsing and matching, and refusal of nonsense limits."""

from __future__ import annotations

import ipaddress

import pytest

from core_alerts.domain.errors import ConfigError
from core_alerts.outbound import AllowList, OutboundPolicy


def test_allow_list_splits_networks_from_names() -> None:
    allow = AllowList.parse(["127.0.0.1/32", "10.0.0.0/8", "::1", "Hooks.Internal.", "*.corp"])
    assert allow.permits_address(ipaddress.ip_address("127.0.0.1"))
    assert allow.permits_address(ipaddress.ip_address("10.20.30.40"))
    assert allow.permits_address(ipaddress.ip_address("::1"))
    assert not allow.permits_address(ipaddress.ip_address("127.0.0.2"))
    assert allow.permits_host("hooks.internal")
    assert allow.permits_host("HOOKS.INTERNAL.")
    assert not allow.permits_host("evil-hooks.internal")


def test_wildcard_names_cover_subdomains_only() -> None:
    allow = AllowList.parse(["*.corp.example"])
    assert allow.permits_host("jira.corp.example")
    assert allow.permits_host("a.b.corp.example")
    assert not allow.permits_host("corp.example")
    assert not allow.permits_host("corp.example.evil.com")


@pytest.mark.parametrize("entry", ["", "not a host", "http://x/", "*.", "a..b", "10.0.0.0/33"])
def test_allow_list_refuses_entries_that_are_neither_cidr_nor_name(entry: str) -> None:
    with pytest.raises(ConfigError, match="allow-list"):
        AllowList.parse([entry])


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("connect_timeout", 0.0),
        ("read_timeout", -1.0),
        ("total_timeout", float("inf")),
        ("max_response_bytes", 0),
        ("max_request_bytes", 0),
        ("max_redirects", -1),
        ("allowed_ports", frozenset({0})),
    ],
)
def test_policy_refuses_meaningless_limits(setting: str, value: object) -> None:
    with pytest.raises(ConfigError) as info:
        OutboundPolicy(**{setting: value})  # type: ignore[arg-type]
    assert info.value.field == setting


def test_ports_are_unrestricted_unless_listed() -> None:
    assert OutboundPolicy().permits_port(8081)
    only_tls = OutboundPolicy(allowed_ports=frozenset({443}))
    assert only_tls.permits_port(443)
    assert not only_tls.permits_port(80)
