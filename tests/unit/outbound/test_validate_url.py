"""Save-time validation: the host is resolved and every answer checked; reasons are named."""

from __future__ import annotations

import ipaddress

import pytest

from core_alerts.domain.errors import ValidationFailed
from core_alerts.outbound import (
    AllowList,
    BlockReason,
    OutboundBlocked,
    OutboundPolicy,
    validate_url,
)
from tests.unit.outbound.local_servers import HangingResolver, StaticResolver

DNS = StaticResolver(
    {
        "hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        "internal.example.com": ["10.0.0.7"],
        "metadata.example.com": ["169.254.169.254"],
        "mixed.example.com": ["93.184.215.14", "127.0.0.1"],
        "mapped.example.com": ["::ffff:127.0.0.1"],
    }
)


async def test_public_name_is_accepted_with_its_addresses() -> None:
    checked = await validate_url(
        "https://hooks.example.com/x?token=t", OutboundPolicy(), resolver=DNS
    )
    assert checked.host == "hooks.example.com"
    assert checked.port == 443
    assert checked.addresses[0] == ipaddress.ip_address("93.184.215.14")
    assert "token=t" not in repr(checked)


@pytest.mark.parametrize(
    ("host", "reason", "address"),
    [
        ("internal.example.com", BlockReason.PRIVATE, "10.0.0.7"),
        ("metadata.example.com", BlockReason.METADATA, "169.254.169.254"),
        ("mixed.example.com", BlockReason.LOOPBACK, "127.0.0.1"),
        ("mapped.example.com", BlockReason.LOOPBACK, "::ffff:7f00:1"),
    ],
)
async def test_name_resolving_to_a_blocked_address_is_refused(
    host: str, reason: BlockReason, address: str
) -> None:
    with pytest.raises(OutboundBlocked) as info:
        await validate_url(f"http://{host}/hook", OutboundPolicy(), resolver=DNS)
    assert info.value.reason is reason
    assert host in info.value.message
    assert address in info.value.message


async def test_allow_listed_name_may_resolve_anywhere() -> None:
    policy = OutboundPolicy(allow=AllowList.parse(["internal.example.com"]))
    checked = await validate_url("http://internal.example.com/", policy, resolver=DNS)
    assert checked.addresses == (ipaddress.ip_address("10.0.0.7"),)


async def test_allow_listed_network_admits_its_addresses_only() -> None:
    policy = OutboundPolicy(allow=AllowList.parse(["10.0.0.0/24"]))
    assert (await validate_url("http://internal.example.com/", policy, resolver=DNS)).addresses
    with pytest.raises(OutboundBlocked):
        await validate_url("http://metadata.example.com/", policy, resolver=DNS)


async def test_unresolvable_name_is_invalid_not_blocked() -> None:
    with pytest.raises(ValidationFailed, match="does not resolve") as info:
        await validate_url("http://nowhere.example.com/", OutboundPolicy(), resolver=DNS)
    assert not isinstance(info.value, OutboundBlocked)


async def test_resolution_that_never_answers_is_bounded_by_the_connect_timeout() -> None:
    policy = OutboundPolicy(connect_timeout=0.05)
    with pytest.raises(ValidationFailed, match="did not resolve within"):
        await validate_url("http://slow.example.com/", policy, resolver=HangingResolver())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://localhost/",
        "http://u@hooks.example.com/",
    ],
)
async def test_refusals_that_need_no_dns_never_ask_the_resolver(url: str) -> None:
    resolver = StaticResolver({})
    with pytest.raises(OutboundBlocked):
        await validate_url(url, OutboundPolicy(), resolver=resolver)
    assert resolver.asked == []


async def test_localhost_is_refused_with_the_system_resolver_too() -> None:
    with pytest.raises(OutboundBlocked) as info:
        await validate_url("http://localhost:8080/", OutboundPolicy())
    assert info.value.reason is BlockReason.LOCAL_NAME


async def test_secret_in_url_is_not_in_the_message() -> None:
    with pytest.raises(ValidationFailed) as info:
        await validate_url(
            "http://nowhere.example.com/services/T1/B2/TOPSECRETVALUE?token=ALSOSECRET",
            OutboundPolicy(),
            resolver=DNS,
        )
    assert "TOPSECRETVALUE" not in str(info.value)
    assert "ALSOSECRET" not in str(info.value)
