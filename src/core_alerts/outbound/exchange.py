"""One request and its response over the pinned connection pool, with timeouts and size caps."""

from __future__ import annotations

from dataclasses import dataclass

import httpcore
import httpx

from core_alerts.outbound.destination import Destination
from core_alerts.outbound.errors import FailReason, OutboundFailed
from core_alerts.outbound.policy import OutboundPolicy
from core_alerts.outbound.redaction import redact_text, redact_url

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class Exchange:
    status: int
    headers: httpx.Headers
    body: bytes


async def exchange(
    pool: httpcore.AsyncConnectionPool,
    policy: OutboundPolicy,
    method: str,
    destination: Destination,
    headers: dict[str, str],
    body: bytes,
) -> Exchange:
    """Send once; raise OutboundFailed on a timeout, a network error or an oversized body."""
    request_headers = [("Host", destination.host_header), *headers.items()]
    if body or method in _BODY_METHODS:
        request_headers.append(("Content-Length", str(len(body))))
    url = destination.url
    timeouts = {
        "connect": policy.connect_timeout,
        "read": policy.read_timeout,
        "write": policy.read_timeout,
        "pool": policy.connect_timeout,
    }
    try:
        async with pool.stream(
            method,
            httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request_headers,
            content=body,
            extensions={"timeout": timeouts},
        ) as response:
            response_headers = httpx.Headers(response.headers)
            payload = await _read_capped(response, response_headers, policy, destination)
            return Exchange(response.status, response_headers, payload)
    except httpcore.TimeoutException as exc:
        raise _failure(destination, FailReason.TIMEOUT, _timeout_phase(exc), True) from None
    except httpcore.ConnectError as exc:
        raise _failure(destination, FailReason.CONNECT, redact_text(str(exc)), True) from None
    except httpcore.NetworkError as exc:
        text = f"connection lost ({redact_text(str(exc)) or type(exc).__name__})"
        raise _failure(destination, FailReason.CONNECT, text, True) from None
    except httpcore.RemoteProtocolError:
        raise _failure(destination, FailReason.PROTOCOL, "invalid HTTP response", True) from None
    except (httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        # Not the library's text: it may quote a header value.
        text = f"request refused by the HTTP layer ({type(exc).__name__})"
        raise _failure(destination, FailReason.PROTOCOL, text, False) from None


async def _read_capped(
    response: httpcore.Response,
    headers: httpx.Headers,
    policy: OutboundPolicy,
    destination: Destination,
) -> bytes:
    """The body, or OutboundFailed as soon as it is known to exceed the cap (never buffered)."""
    limit = policy.max_response_bytes
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(destination, limit, f"declared {declared} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(destination, limit, f"over {limit} bytes received")
        chunks.append(chunk)
    return b"".join(chunks)


def _timeout_phase(exc: httpcore.TimeoutException) -> str:
    if isinstance(exc, httpcore.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpcore.PoolTimeout):
        return "no free connection in time"
    if isinstance(exc, httpcore.WriteTimeout):
        return "sending timed out"
    return "read timed out"


def _too_large(destination: Destination, limit: int, detail: str) -> OutboundFailed:
    return OutboundFailed(
        f"{redact_url(str(destination.url))}: response exceeds the limit of {limit} bytes "
        f"({detail})",
        reason=FailReason.RESPONSE_TOO_LARGE,
        retryable=False,
    )


def _failure(
    destination: Destination, reason: FailReason, detail: str, retryable: bool
) -> OutboundFailed:
    return OutboundFailed(
        f"{redact_url(str(destination.url))}: {detail}", reason=reason, retryable=retryable
    )
