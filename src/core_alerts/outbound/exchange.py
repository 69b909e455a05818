"""One request and its response over the pinned connection pool, with timeouts and size caps."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import aiohttp
import httpx
import yarl

from core_alerts.outbound.destination import Destination
from core_alerts.outbound.errors import FailReason, OutboundFailed
from core_alerts.outbound.policy import OutboundPolicy
from core_alerts.outbound.redaction import redact_text, redact_url

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class Exchange:
    status: int
    headers: httpx.Headers
    body: bytes


async def exchange(
    session: aiohttp.ClientSession,
    policy: OutboundPolicy,
    method: str,
    destination: Destination,
    headers: dict[str, str],
    body: bytes,
) -> Exchange:
    """Send once; raise OutboundFailed on a timeout, a network error or an oversized body."""
    request_headers = {"Host": destination.host_header, **headers}
    if body or method in _BODY_METHODS:
        request_headers["Content-Length"] = str(len(body))
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=policy.connect_timeout,  # a free connection, then connecting
        sock_connect=policy.connect_timeout,
        sock_read=policy.read_timeout,
    )
    try:
        async with session.request(
            method,
            _yarl_url(str(destination.url)),
            headers=request_headers,
            data=body or None,
            allow_redirects=False,
            timeout=timeout,
        ) as response:
            response_headers = httpx.Headers(list(response.raw_headers))
            payload = await _read_capped(response, response_headers, policy, destination)
            return Exchange(response.status, response_headers, payload)
    except aiohttp.ConnectionTimeoutError:
        raise _failure(destination, FailReason.TIMEOUT, "connect timed out", True) from None
    except (TimeoutError, aiohttp.ServerTimeoutError):
        raise _failure(destination, FailReason.TIMEOUT, "read timed out", True) from None
    except aiohttp.ClientConnectorError as exc:
        text = redact_text(str(exc.os_error or exc))
        raise _failure(destination, FailReason.CONNECT, text, True) from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        text = f"connection lost ({redact_text(str(exc)) or type(exc).__name__})"
        raise _failure(destination, FailReason.CONNECT, text, True) from None
    except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError):
        raise _failure(destination, FailReason.PROTOCOL, "invalid HTTP response", True) from None
    except (aiohttp.ClientError, ValueError) as exc:
        # Not the library's text: it may quote a header value.
        text = f"request refused by the HTTP layer ({type(exc).__name__})"
        raise _failure(destination, FailReason.PROTOCOL, text, False) from None


@functools.lru_cache(maxsize=1024)
def _yarl_url(url: str) -> yarl.URL:
    """The URL as aiohttp takes it, already encoded (receivers post to the same few URLs)."""
    return yarl.URL(url, encoded=True)


async def _read_capped(
    response: aiohttp.ClientResponse,
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
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(destination, limit, f"over {limit} bytes received")
        chunks.append(chunk)
    return b"".join(chunks)


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
