"""Address classes the outbound policy refuses, IPv6 forms that carry IPv4, odd IPv4 spellings."""

from __future__ import annotations

import ipaddress

import pytest

from core_alerts.outbound import BlockReason
from core_alerts.outbound.addresses import address_block, decode_ipv4_spelling, embedded_ipv4

R = BlockReason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", R.LOOPBACK),
        ("127.255.255.254", R.LOOPBACK),
        ("::1", R.LOOPBACK),
        ("0.0.0.0", R.UNSPECIFIED),
        ("::", R.UNSPECIFIED),
        ("0.1.2.3", R.RESERVED),
        ("169.254.169.254", R.METADATA),
        ("fd00:ec2::254", R.METADATA),
        ("169.254.1.1", R.LINK_LOCAL),
        ("fe80::1", R.LINK_LOCAL),
        ("febf:ffff::1", R.LINK_LOCAL),
        ("10.1.2.3", R.PRIVATE),
        ("172.16.0.1", R.PRIVATE),
        ("172.31.255.255", R.PRIVATE),
        ("192.168.0.1", R.PRIVATE),
        ("fc00::1", R.PRIVATE),
        ("fd12:3456::1", R.PRIVATE),
        ("fec0::1", R.PRIVATE),
        ("100.64.0.1", R.SHARED),
        ("100.127.255.255", R.SHARED),
        ("224.0.0.1", R.MULTICAST),
        ("239.255.255.250", R.MULTICAST),
        ("ff02::1", R.MULTICAST),
        ("255.255.255.255", R.BROADCAST),
        ("240.0.0.1", R.RESERVED),
        ("192.0.2.1", R.NOT_GLOBAL),
        ("198.18.0.1", R.NOT_GLOBAL),
        ("2001:db8::1", R.NOT_GLOBAL),
    ],
)
def test_non_public_addresses_are_blocked_with_their_class(address: str, reason: R) -> None:
    block = address_block(ipaddress.ip_address(address))
    assert block is not None
    assert block.reason is reason


@pytest.mark.parametrize(
    ("address", "inner", "reason"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1", R.LOOPBACK),
        ("::ffff:169.254.169.254", "169.254.169.254", R.METADATA),
        ("::ffff:10.0.0.1", "10.0.0.1", R.PRIVATE),
        ("::127.0.0.1", "127.0.0.1", R.LOOPBACK),
        ("::ffff:0:7f00:1", "127.0.0.1", R.LOOPBACK),
        ("2002:7f00:1::", "127.0.0.1", R.LOOPBACK),
        ("2002:a9fe:a9fe::1", "169.254.169.254", R.METADATA),
        ("64:ff9b::7f00:1", "127.0.0.1", R.LOOPBACK),
        ("64:ff9b::a00:1", "10.0.0.1", R.PRIVATE),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1", R.LOOPBACK),
    ],
)
def test_ipv6_forms_are_judged_by_the_ipv4_they_carry(address: str, inner: str, reason: R) -> None:
    ip = ipaddress.IPv6Address(address)
    assert embedded_ipv4(ip) == ipaddress.IPv4Address(inner)
    block = address_block(ip)
    assert block is not None
    assert block.reason is reason
    assert inner in block.description


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "64:ff9b::808:808"],
)
def test_public_unicast_addresses_pass(address: str) -> None:
    assert address_block(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.000.000.001", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("10.1", "10.0.0.1"),
    ],
)
def test_inet_aton_spellings_decode_to_the_address_a_resolver_would_use(
    spelling: str, address: str
) -> None:
    assert decode_ipv4_spelling(spelling) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize(
    "text", ["example.com", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "1.2.3.256", "0x1g", ""]
)
def test_names_and_impossible_numbers_are_not_ipv4_spellings(text: str) -> None:
    assert decode_ipv4_spelling(text) is None
