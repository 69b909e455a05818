"""Caps on time and size, triggered by real misbehaving servers; and no secret in any error
or log line the client produces."""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace

import pytest

from core_alerts.domain.errors import CoreAlertsError
from core_alerts.outbound import FailReason, OutboundClient, OutboundFailed, OutboundPolicy
from tests.support.services import free_port
from tests.unit.outbound.local_servers import (
    AppServer,
    CountingServer,
    HangingResolver,
    SilentServer,
    StaticResolver,
)


async def test_response_streaming_forever_stops_at_the_size_cap(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    policy = replace(loopback_allowed, max_response_bytes=300_000)
    async with OutboundClient(policy, resolver=names) as client:
        with pytest.raises(OutboundFailed, match="exceeds the limit of 300000 bytes") as info:
            await client.request("GET", f"http://hooks.test:{app_server.port}/stream-forever")
    assert (info.value.reason, info.value.retryable) == (FailReason.RESPONSE_TOO_LARGE, False)


async def test_declared_length_over_the_cap_fails_before_reading(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        with pytest.raises(OutboundFailed, match="declared 1099511627776 bytes") as info:
            await client.request("GET", f"http://hooks.test:{app_server.port}/declared-huge")
    assert info.value.reason is FailReason.RESPONSE_TOO_LARGE


async def test_server_that_never_answers_hits_the_read_timeout(
    names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    policy = replace(loopback_allowed, read_timeout=0.2)
    async with SilentServer() as server, OutboundClient(policy, resolver=names) as client:
        with pytest.raises(OutboundFailed, match="read timed out") as info:
            await client.request("POST", f"http://hooks.test:{server.port}/", json={"a": 1})
    assert (info.value.reason, info.value.retryable) == (FailReason.TIMEOUT, True)


async def test_response_that_never_completes_hits_the_total_timeout(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    policy = replace(loopback_allowed, total_timeout=0.3)
    async with OutboundClient(policy, resolver=names) as client:
        with pytest.raises(OutboundFailed, match=r"no complete response within 0\.3s") as info:
            await client.request("GET", f"http://hooks.test:{app_server.port}/drip")
    assert info.value.reason is FailReason.TIMEOUT


async def test_per_call_timeout_can_only_lower_the_policy(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        with pytest.raises(OutboundFailed, match=r"within 0\.2s"):
            await client.request(
                "GET", f"http://hooks.test:{app_server.port}/drip", total_timeout=0.2
            )
    short = replace(loopback_allowed, total_timeout=0.2)
    async with OutboundClient(short, resolver=names) as client:
        with pytest.raises(OutboundFailed, match=r"within 0\.2s"):
            await client.request(
                "GET", f"http://hooks.test:{app_server.port}/drip", total_timeout=60
            )


async def test_resolver_that_never_answers_hits_the_connect_timeout(
    loopback_allowed: OutboundPolicy,
) -> None:
    policy = replace(loopback_allowed, connect_timeout=0.1)
    async with OutboundClient(policy, resolver=HangingResolver()) as client:
        with pytest.raises(OutboundFailed, match="connect timed out") as info:
            await client.request("GET", "http://hooks.test/")
    assert (info.value.reason, info.value.retryable) == (FailReason.TIMEOUT, True)


async def test_request_body_over_the_cap_is_never_sent(
    names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    policy = replace(loopback_allowed, max_request_bytes=10)
    async with CountingServer() as server, OutboundClient(policy, resolver=names) as client:
        with pytest.raises(OutboundFailed, match="11 bytes exceeds the limit of 10") as info:
            await client.request("POST", f"http://hooks.test:{server.port}/", content=b"x" * 11)
        assert server.connections == 0
    assert (info.value.reason, info.value.retryable) == (FailReason.REQUEST_TOO_LARGE, False)


SECRET = "Zq9SECRETv4lue"


def secret_bearing_calls(port: int) -> list[tuple[str, str]]:
    """(method, url) pairs that fail in different places, each carrying SECRET."""
    return [
        ("GET", f"http://127.0.0.1:{free_port()}/?token={SECRET}"),  # refused connection
        ("GET", f"http://hooks.test:{port}/stream-forever?api_key={SECRET}"),  # size cap
        ("GET", f"http://hooks.test:{port}/loop?secret={SECRET}"),  # too many redirects
        ("GET", f"http://10.0.0.1/services/T1/B2/{SECRET}"),  # blocked
        ("GET", f"http://u:{SECRET}@hooks.test:{port}/"),  # userinfo
        ("GET", f"http://gone.test/?key={SECRET}"),  # unresolvable
        ("GET", f"http://hooks.test:{port}/redirect?to=http://10.0.0.1/%3Ftoken%3D{SECRET}"),
    ]


def assert_clean(text: str) -> None:
    assert SECRET not in text
    assert "LOOPSECRET" not in text


async def test_secrets_never_appear_in_errors_or_client_logs(
    app_server: AppServer,
    names: StaticResolver,
    loopback_allowed: OutboundPolicy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    policy = replace(loopback_allowed, max_response_bytes=100_000, max_redirects=2)
    headers = {"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET}
    failures: list[CoreAlertsError] = []
    async with OutboundClient(policy, resolver=names) as client:
        ok = await client.request(
            "GET", f"http://hooks.test:{app_server.port}/echo?token={SECRET}", headers=headers
        )
        for method, url in secret_bearing_calls(app_server.port):
            with pytest.raises(CoreAlertsError) as info:
                await client.request(method, url, headers=headers)
            failures.append(info.value)
        rate_limited = await client.request(
            "GET", f"http://hooks.test:{app_server.port}/status?code=401&sig={SECRET}"
        )
        with pytest.raises(OutboundFailed) as info:
            rate_limited.raise_for_status()
        failures.append(info.value)
    assert ok.status == 200
    assert_clean(repr(ok))
    assert len(failures) == 8
    for exc in failures:
        assert_clean(str(exc))
        assert_clean(repr(exc))
        assert_clean("".join(traceback.format_exception(exc)))
    ours = [r for r in caplog.records if r.name.startswith(("core_alerts", "aiohttp"))]
    assert len([r for r in ours if r.name == "core_alerts.outbound"]) >= 9
    for record in ours:
        assert_clean(record.getMessage())
