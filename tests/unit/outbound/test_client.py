"""OutboundClient against real servers on loopback (allow-listed): what reaches the server,
TLS names, redirects and status handling."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace

import pytest

from core_alerts.domain.errors import ValidationFailed
from core_alerts.outbound import (
    BlockReason,
    FailReason,
    OutboundBlocked,
    OutboundClient,
    OutboundFailed,
    OutboundPolicy,
)
from tests.support.services import free_port
from tests.unit.outbound.local_servers import AppServer, StaticResolver


async def test_request_reaches_the_server_under_its_original_name(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    url = f"http://hooks.test:{app_server.port}/echo?team=ops"
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        response = await client.request("post", url, json={"a": 1}, headers={"X-Trace": "t1"})
    seen = response.json()
    assert response.status == 200
    assert seen["method"] == "POST"
    assert seen["host"] == f"hooks.test:{app_server.port}"
    assert seen["body"] == '{"a":1}'
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["X-Trace"] == "t1"
    assert seen["headers"]["Accept-Encoding"] == "identity"
    assert response.final_url == url
    assert names.asked == ["hooks.test"]


async def test_caller_headers_replace_defaults_whatever_their_case(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        response = await client.request(
            "PUT",
            f"http://hooks.test:{app_server.port}/echo",
            content="plain",
            headers={"user-agent": "probe/1", "Content-Type": "text/plain"},
        )
    seen = response.json()
    assert seen["headers"]["User-Agent"] == "probe/1"
    assert seen["body"] == "plain"


@dataclass
class TlsSetup:
    server: ssl.SSLContext
    client: ssl.SSLContext
    sni: list[str | None]


def tls_for(name: str) -> TlsSetup:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(server)
    sni: list[str | None] = []
    server.sni_callback = lambda _sock, server_name, _ctx: sni.append(server_name)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return TlsSetup(server, client, sni)


@pytest.fixture
def hooks_tls() -> TlsSetup:
    return tls_for("hooks.test")


async def test_https_keeps_sni_certificate_check_and_host_on_the_name(
    hooks_tls: TlsSetup, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    async with (
        AppServer(hooks_tls.server) as server,
        OutboundClient(loopback_allowed, resolver=names, ssl_context=hooks_tls.client) as client,
    ):
        response = await client.request("GET", f"https://hooks.test:{server.port}/echo")
    assert response.status == 200
    assert response.json()["host"] == f"hooks.test:{server.port}"
    assert hooks_tls.sni == ["hooks.test"]


async def test_https_certificate_for_another_name_is_refused(
    names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    tls = tls_for("other.test")
    async with (
        AppServer(tls.server) as server,
        OutboundClient(loopback_allowed, resolver=names, ssl_context=tls.client) as client,
    ):
        with pytest.raises(OutboundFailed) as info:
            await client.request("GET", f"https://hooks.test:{server.port}/echo")
    assert info.value.reason is FailReason.CONNECT
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message


async def test_https_redirect_to_http_is_refused(
    hooks_tls: TlsSetup,
    app_server: AppServer,
    names: StaticResolver,
    loopback_allowed: OutboundPolicy,
) -> None:
    target = f"http://hooks.test:{app_server.port}/echo"
    async with (
        AppServer(hooks_tls.server) as server,
        OutboundClient(loopback_allowed, resolver=names, ssl_context=hooks_tls.client) as client,
    ):
        with pytest.raises(OutboundBlocked) as info:
            await client.request("GET", f"https://hooks.test:{server.port}/redirect?to={target}")
    assert info.value.reason is BlockReason.DOWNGRADE


async def test_see_other_turns_post_into_get_and_counts_the_hop(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    base = f"http://hooks.test:{app_server.port}"
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        response = await client.request(
            "POST", f"{base}/redirect?status=303&to=/echo", json={"a": 1}
        )
    seen = response.json()
    assert (seen["method"], seen["body"]) == ("GET", "")
    assert "Content-Type" not in seen["headers"]
    assert response.redirects == 1
    assert response.final_url == f"{base}/echo"


async def test_temporary_redirect_keeps_method_and_body(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    base = f"http://hooks.test:{app_server.port}"
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        response = await client.request(
            "POST", f"{base}/redirect?status=307&to=/echo", json={"a": 1}
        )
    assert (response.json()["method"], response.json()["body"]) == ("POST", '{"a":1}')


async def test_cross_origin_redirect_drops_credentials_same_origin_keeps_them(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    port = app_server.port
    headers = {"Authorization": "Bearer t0k", "X-Api-Key": "k3y", "X-Trace": "t1"}
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        other = await client.request(
            "GET",
            f"http://hooks.test:{port}/redirect?to=http://other.test:{port}/echo",
            headers=headers,
        )
        same = await client.request(
            "GET", f"http://hooks.test:{port}/redirect?to=/echo", headers=headers
        )
    crossed = other.json()["headers"]
    assert "Authorization" not in crossed
    assert "X-Api-Key" not in crossed
    assert crossed["X-Trace"] == "t1"
    assert same.json()["headers"]["Authorization"] == "Bearer t0k"


async def test_redirects_beyond_the_limit_fail(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    policy = replace(loopback_allowed, max_redirects=2)
    async with OutboundClient(policy, resolver=names) as client:
        with pytest.raises(OutboundFailed, match="more than 2 redirects") as info:
            await client.request("GET", f"http://hooks.test:{app_server.port}/loop")
    assert info.value.reason is FailReason.TOO_MANY_REDIRECTS
    assert info.value.retryable is False


async def test_no_redirects_allowed_means_a_redirect_fails(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    policy = replace(loopback_allowed, max_redirects=0)
    async with OutboundClient(policy, resolver=names) as client:
        with pytest.raises(OutboundFailed) as info:
            await client.request("GET", f"http://hooks.test:{app_server.port}/redirect?to=/echo")
    assert info.value.reason is FailReason.TOO_MANY_REDIRECTS


async def test_rate_limited_answer_carries_retry_after(
    app_server: AppServer, names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    url = f"http://hooks.test:{app_server.port}/status?code=429&retry_after=7"
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        response = await client.request("POST", url, json={})
    assert (response.status, response.retry_after) == (429, 7.0)
    with pytest.raises(OutboundFailed) as info:
        response.raise_for_status()
    assert (info.value.retryable, info.value.retry_after, info.value.status) == (True, 7.0, 429)


async def test_refused_connection_is_a_retryable_failure(
    names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        with pytest.raises(OutboundFailed) as info:
            await client.request("GET", f"http://hooks.test:{free_port()}/")
    assert (info.value.reason, info.value.retryable) == (FailReason.CONNECT, True)


async def test_unresolvable_name_at_send_time_is_retryable(
    names: StaticResolver, loopback_allowed: OutboundPolicy
) -> None:
    async with OutboundClient(loopback_allowed, resolver=names) as client:
        with pytest.raises(OutboundFailed) as info:
            await client.request("GET", "http://gone.test/")
    assert (info.value.reason, info.value.retryable) == (FailReason.UNRESOLVABLE, True)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Host": "internal.example"}, "set by the client"),
        ({"Transfer-Encoding": "chunked"}, "set by the client"),
        ({"X-Token": "abc\r\nX-Injected: 1"}, "line break"),
        ({"Bad Name": "x"}, "not a valid header name"),
    ],
)
async def test_headers_that_could_smuggle_requests_are_refused(
    headers: dict[str, str], message: str, loopback_allowed: OutboundPolicy
) -> None:
    async with OutboundClient(loopback_allowed) as client:
        with pytest.raises(ValidationFailed, match=message) as info:
            await client.request("GET", "http://127.0.0.1:9/", headers=headers)
    assert "abc" not in str(info.value)


async def test_json_and_content_together_are_refused(loopback_allowed: OutboundPolicy) -> None:
    async with OutboundClient(loopback_allowed) as client:
        with pytest.raises(ValidationFailed, match="either json or content"):
            await client.request("POST", "http://127.0.0.1:9/", json={}, content=b"x")
