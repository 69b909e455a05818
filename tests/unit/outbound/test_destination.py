"""URL checks that need no DNS: scheme, userinfo, host form, port, literal addresses."""

from __future__ import annotations

import pytest

from core_alerts.domain.errors import ValidationFailed
from core_alerts.outbound import (
    AllowList,
    BlockReason,
    OutboundBlocked,
    OutboundPolicy,
    parse_destination,
)

R = BlockReason
OPEN = OutboundPolicy()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", R.SCHEME),
        ("file:///etc/passwd", R.SCHEME),
        ("gopher://example.com:70/", R.SCHEME),
        ("dict://example.com:11211/", R.SCHEME),
        ("/relative/path", R.SCHEME),
        ("http://user@example.com/", R.USERINFO),
        ("http://user:pass@example.com/", R.USERINFO),
        ("http://127.0.0.1\\@example.com/", R.USERINFO),
        ("http://example.com:0/", R.PORT),
        ("http://[fe80::1%25eth0]/", R.HOST),
        ("http://%31%32%37.0.0.1/", R.HOST),
        ("http://a b/", R.HOST),
        ("http://1.2.3.4.5/", R.HOST),
        ("http://example.123/", R.HOST),
        ("http:///path", R.HOST),
        ("http://localhost/", R.LOCAL_NAME),
        ("http://LOCALHOST./", R.LOCAL_NAME),
        ("http://api.localhost/", R.LOCAL_NAME),
        ("http://2130706433/", R.IPV4_SPELLING),
        ("http://0177.0.0.1/", R.IPV4_SPELLING),
        ("http://0x7f.1/", R.IPV4_SPELLING),
        ("http://127.1/", R.IPV4_SPELLING),
        ("http://0x08.0x08.0x08.0x08/", R.IPV4_SPELLING),
        ("http://127.0.0.1/", R.LOOPBACK),
        ("http://127.0.0.1./", R.LOOPBACK),
        ("http://[::ffff:127.0.0.1]/", R.LOOPBACK),
        ("http://169.254.169.254/latest/meta-data/", R.METADATA),
        ("http://[fd00:ec2::254]/", R.METADATA),
    ],
)
def test_refused_forms_name_their_reason(url: str, reason: R) -> None:
    with pytest.raises(OutboundBlocked) as info:
        parse_destination(url, OPEN)
    assert info.value.reason is reason
    assert info.value.field == "url"
    assert isinstance(info.value, ValidationFailed)


def test_spelling_message_says_what_the_host_stands_for() -> None:
    with pytest.raises(OutboundBlocked, match=r"spelling of 127\.0\.0\.1 \(a loopback address\)"):
        parse_destination("http://0x7f.1:8080/", OPEN)


@pytest.mark.parametrize(
    "url", ["http://[::1/", "http://999.1.1.1/", "http://08.1.1.1/", "http://１２７.０.０.１/"]
)
def test_url_that_does_not_parse_is_a_validation_failure(url: str) -> None:
    with pytest.raises(ValidationFailed, match="not a valid URL") as info:
        parse_destination(url, OPEN)
    assert not isinstance(info.value, OutboundBlocked)


def test_port_outside_the_policy_is_refused() -> None:
    policy = OutboundPolicy(allowed_ports=frozenset({443}))
    assert parse_destination("https://example.com/", policy).port == 443
    with pytest.raises(OutboundBlocked, match="port 8443 is not allowed") as info:
        parse_destination("https://example.com:8443/", policy)
    assert info.value.reason is R.PORT


def test_public_destination_keeps_name_port_and_host_header() -> None:
    destination = parse_destination("https://Hooks.Example.com:8443/services/x?y=1", OPEN)
    assert (destination.scheme, destination.host, destination.port) == (
        "https",
        "hooks.example.com",
        8443,
    )
    assert destination.host_header == "hooks.example.com:8443"


def test_international_names_are_checked_in_their_ascii_form() -> None:
    assert parse_destination("http://bücher.example/", OPEN).host == "xn--bcher-kva.example"


def test_allow_list_admits_addresses_and_names_but_not_odd_spellings() -> None:
    policy = OutboundPolicy(allow=AllowList.parse(["127.0.0.0/8", "localhost"]))
    assert parse_destination("http://127.0.0.1:9000/", policy).port == 9000
    assert parse_destination("http://[::ffff:127.0.0.1]:9000/", policy).port == 9000
    assert parse_destination("http://localhost:9000/", policy).host == "localhost"
    with pytest.raises(OutboundBlocked) as info:
        parse_destination("http://127.1:9000/", policy)
    assert info.value.reason is R.IPV4_SPELLING
