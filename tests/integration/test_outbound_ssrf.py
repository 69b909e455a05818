"""SSRF suite (reliability plan b.4, API7): a canary HTTP server on 127.0.0.1 counts
connections; every blocked form, DNS rebinding and a redirect from an allowed server must be
refused with the canary receiving 0 connections. Allow-listed, the canary is reachable."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from core_alerts.domain.errors import ValidationFailed
from core_alerts.outbound import (
    AllowList,
    BlockReason,
    OutboundBlocked,
    OutboundClient,
    OutboundPolicy,
    validate_url,
)
from tests.support.services import missing
from tests.unit.outbound.local_servers import (
    AppServer,
    CountingServer,
    ScriptedResolver,
    StaticResolver,
)

pytestmark = pytest.mark.integration

R = BlockReason
PUBLIC = "93.184.215.14"

# Every spelling of "this machine" as its own case; {port} is the canary's.
CANARY_FORMS = {
    "loopback": "http://127.0.0.1:{port}/",
    "loopback-trailing-dot": "http://127.0.0.1.:{port}/",
    "loopback-other": "http://127.0.0.2:{port}/",
    "localhost": "http://localhost:{port}/",
    "localhost-upper-dot": "http://LOCALHOST.:{port}/",
    "localhost-subdomain": "http://hooks.localhost:{port}/",
    "unspecified": "http://0.0.0.0:{port}/",
    "unspecified-short": "http://0:{port}/",
    "unspecified-v6": "http://[::]:{port}/",
    "loopback-v6": "http://[::1]:{port}/",
    "decimal": "http://2130706433:{port}/",
    "octal": "http://0177.0.0.1:{port}/",
    "octal-padded": "http://0177.0000.0000.0001:{port}/",
    "octal-whole": "http://017700000001:{port}/",
    "hex-short": "http://0x7f.1:{port}/",
    "hex-whole": "http://0x7f000001:{port}/",
    "hex-dotted": "http://0x7f.0x0.0x0.0x1:{port}/",
    "short-two-parts": "http://127.1:{port}/",
    "short-three-parts": "http://127.0.1:{port}/",
    "leading-zeros": "http://127.000.000.001:{port}/",
    "ipv4-mapped": "http://[::ffff:127.0.0.1]:{port}/",
    "ipv4-mapped-hex": "http://[::ffff:7f00:1]:{port}/",
    "ipv4-compatible": "http://[::127.0.0.1]:{port}/",
    "ipv4-translated": "http://[::ffff:0:127.0.0.1]:{port}/",
    "6to4": "http://[2002:7f00:1::]:{port}/",
    "nat64": "http://[64:ff9b::127.0.0.1]:{port}/",
    "teredo": "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/",
    "userinfo": "http://user@127.0.0.1:{port}/",
    "userinfo-password": "http://user:pass@127.0.0.1:{port}/",
    "userinfo-lookalike": "http://example.com@127.0.0.1:{port}/",
    "userinfo-backslash": "http://127.0.0.1:{port}\\@example.com/",
    "scheme-https-to-loopback": "https://127.0.0.1:{port}/",
    "scheme-ftp": "ftp://127.0.0.1:{port}/",
    "scheme-gopher": "gopher://127.0.0.1:{port}/_GET%20/",
    "scheme-dict": "dict://127.0.0.1:{port}/info",
    "scheme-file": "file:///etc/passwd",
}

# Addresses of other blocked classes; the reason must be named.
OTHER_RANGES = {
    "metadata": ("http://169.254.169.254/latest/meta-data/", R.METADATA),
    "metadata-decimal": ("http://2852039166/latest/meta-data/", R.IPV4_SPELLING),
    "metadata-v6": ("http://[fd00:ec2::254]/latest/meta-data/", R.METADATA),
    "metadata-mapped": ("http://[::ffff:169.254.169.254]/", R.METADATA),
    "link-local": ("http://169.254.10.10/", R.LINK_LOCAL),
    "link-local-v6": ("http://[fe80::1]/", R.LINK_LOCAL),
    "private-10": ("http://10.0.0.1/", R.PRIVATE),
    "private-172": ("http://172.16.0.1/", R.PRIVATE),
    "private-192": ("http://192.168.1.1/", R.PRIVATE),
    "unique-local-v6": ("http://[fc00::1]/", R.PRIVATE),
    "cgnat": ("http://100.64.0.1/", R.SHARED),
    "multicast": ("http://224.0.0.1/", R.MULTICAST),
    "multicast-v6": ("http://[ff02::1]/", R.MULTICAST),
    "broadcast": ("http://255.255.255.255/", R.BROADCAST),
    "reserved": ("http://240.0.0.1/", R.RESERVED),
    "this-network": ("http://0.1.2.3/", R.RESERVED),
    "nat64-private": ("http://[64:ff9b::10.0.0.1]/", R.PRIVATE),
}

# Names whose DNS answers are blocked (served by the injected resolver).
HOSTILE_DNS = {
    "canary.test": ["127.0.0.1"],
    "mixed.test": [PUBLIC, "127.0.0.1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "unspecified.test": ["0.0.0.0"],
    "metadata.test": ["169.254.169.254"],
}


@pytest.fixture
async def canary() -> AsyncIterator[CountingServer]:
    async with CountingServer() as server:
        yield server


@pytest.mark.parametrize("form", CANARY_FORMS.values(), ids=CANARY_FORMS.keys())
async def test_blocked_form_is_refused_and_canary_gets_nothing(
    form: str, canary: CountingServer
) -> None:
    url = form.format(port=canary.port)
    with pytest.raises(OutboundBlocked):
        await validate_url(url, OutboundPolicy())
    async with OutboundClient(OutboundPolicy()) as client:
        with pytest.raises(OutboundBlocked):
            await client.request("POST", url, json={"probe": 1})
    assert canary.connections == 0


@pytest.mark.parametrize(("url", "reason"), OTHER_RANGES.values(), ids=OTHER_RANGES.keys())
async def test_other_blocked_ranges_are_refused_before_connecting(
    url: str, reason: BlockReason
) -> None:
    with pytest.raises(OutboundBlocked) as at_save:
        await validate_url(url, OutboundPolicy())
    assert at_save.value.reason is reason
    async with OutboundClient(OutboundPolicy()) as client:
        with pytest.raises(OutboundBlocked) as at_send:
            await client.request("GET", url)
    assert at_send.value.reason is reason


@pytest.mark.parametrize("host", HOSTILE_DNS.keys())
async def test_names_resolving_to_blocked_addresses_are_refused(
    host: str, canary: CountingServer
) -> None:
    url = f"http://{host}:{canary.port}/"
    resolver = StaticResolver(HOSTILE_DNS)
    with pytest.raises(OutboundBlocked):
        await validate_url(url, OutboundPolicy(), resolver=resolver)
    async with OutboundClient(OutboundPolicy(), resolver=resolver) as client:
        with pytest.raises(OutboundBlocked):
            await client.request("GET", url)
    assert canary.connections == 0


async def test_dns_rebinding_after_the_save_time_check_is_refused_at_send(
    canary: CountingServer,
) -> None:
    resolver = ScriptedResolver([PUBLIC], ["127.0.0.1"])
    url = f"http://rebind.test:{canary.port}/hook"
    checked = await validate_url(url, OutboundPolicy(), resolver=resolver)
    assert checked.addresses == (ipaddress.ip_address(PUBLIC),)
    async with OutboundClient(OutboundPolicy(), resolver=resolver) as client:
        with pytest.raises(OutboundBlocked) as info:
            await client.request("POST", url, json={"a": 1})
    assert info.value.reason is R.LOOPBACK
    assert resolver.asked == 2
    assert canary.connections == 0


async def test_connection_goes_to_the_address_that_was_checked(canary: CountingServer) -> None:
    """Same port on two loopback addresses: the allowed one answers first, then the name
    rebinds to the canary's. One resolution per connection, and it is the one used."""
    allowed = CountingServer(host="127.0.0.2", port=canary.port)
    try:
        await allowed.__aenter__()
    except OSError:
        missing("a second loopback address (127.0.0.2)")
    try:
        resolver = ScriptedResolver(["127.0.0.2"], ["127.0.0.1"])
        policy = OutboundPolicy(allow=AllowList.parse(["127.0.0.2/32"]))
        url = f"http://rebind.test:{canary.port}/"
        async with OutboundClient(policy, resolver=resolver) as client:
            response = await client.request("GET", url)
        assert (response.status, response.body) == (200, b"canary")
        assert (allowed.connections, resolver.asked) == (1, 1)
        async with OutboundClient(policy, resolver=resolver) as client:
            with pytest.raises(OutboundBlocked):
                await client.request("GET", url)
        assert resolver.asked == 2
        assert canary.connections == 0
    finally:
        await allowed.__aexit__(None, None, None)


REDIRECT_TARGETS = {
    "loopback": "http://127.0.0.1:{port}/",
    "localhost": "http://localhost:{port}/",
    "hex": "http://0x7f.1:{port}/",
    "decimal": "http://2130706433:{port}/",
    "ipv4-mapped": "http://[::ffff:127.0.0.1]:{port}/",
    "name-resolving-to-loopback": "http://canary.test:{port}/",
    "userinfo": "http://u@127.0.0.1:{port}/",
    "scheme": "gopher://127.0.0.1:{port}/",
    "metadata": "http://169.254.169.254/latest/meta-data/",
}


@pytest.fixture
async def redirector() -> AsyncIterator[AppServer]:
    async with AppServer() as server:
        yield server


async def redirect_through(redirector: AppServer, target: str, status: int = 302) -> None:
    resolver = StaticResolver({"redirector.test": ["127.0.0.1"], "canary.test": ["127.0.0.1"]})
    policy = OutboundPolicy(allow=AllowList.parse(["redirector.test"]))
    url = f"http://redirector.test:{redirector.port}/redirect?status={status}&to={quote(target)}"
    async with OutboundClient(policy, resolver=resolver) as client:
        await client.request("POST", url, json={"a": 1})


@pytest.mark.parametrize("target", REDIRECT_TARGETS.values(), ids=REDIRECT_TARGETS.keys())
async def test_redirect_from_an_allowed_server_to_a_blocked_target_fails(
    target: str, canary: CountingServer, redirector: AppServer
) -> None:
    with pytest.raises(OutboundBlocked):
        await redirect_through(redirector, target.format(port=canary.port))
    assert redirector.hits == ["/redirect"]
    assert canary.connections == 0


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_every_redirect_status_is_rechecked(
    status: int, canary: CountingServer, redirector: AppServer
) -> None:
    with pytest.raises(OutboundBlocked):
        await redirect_through(redirector, f"http://127.0.0.1:{canary.port}/", status)
    assert canary.connections == 0


async def test_allow_listed_canary_is_reached_under_its_original_name(
    canary: CountingServer,
) -> None:
    policy = OutboundPolicy(allow=AllowList.parse(["127.0.0.1/32"]))
    resolver = StaticResolver({"canary.test": ["127.0.0.1"]})
    checked = await validate_url(f"http://canary.test:{canary.port}/", policy, resolver=resolver)
    assert checked.addresses == (ipaddress.ip_address("127.0.0.1"),)
    async with OutboundClient(policy, resolver=resolver) as client:
        by_name = await client.request("GET", f"http://canary.test:{canary.port}/")
        by_address = await client.request("GET", f"http://127.0.0.1:{canary.port}/")
    assert (by_name.status, by_name.body) == (200, b"canary")
    assert by_address.status == 200
    assert canary.connections == 2
    assert canary.host_headers() == [f"canary.test:{canary.port}", f"127.0.0.1:{canary.port}"]


async def test_allow_list_does_not_open_other_spellings(canary: CountingServer) -> None:
    policy = OutboundPolicy(allow=AllowList.parse(["127.0.0.1/32"]))
    async with OutboundClient(policy) as client:
        with pytest.raises(ValidationFailed):
            await client.request("GET", f"http://0x7f.1:{canary.port}/")
        with pytest.raises(OutboundBlocked):
            await client.request("GET", f"http://localhost:{canary.port}/")
    assert canary.connections == 0
