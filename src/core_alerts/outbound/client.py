"""OutboundClient: the one way core-alerts calls a URL that a tenant configured."""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import re
import ssl
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import aiohttp
import httpx

from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.errors import ValidationFailed
from core_alerts.outbound.destination import Destination, parse_destination
from core_alerts.outbound.errors import (
    FailReason,
    OutboundBlocked,
    OutboundFailed,
)
from core_alerts.outbound.exchange import Exchange, exchange
from core_alerts.outbound.guard import AddressGuard
from core_alerts.outbound.network import new_session
from core_alerts.outbound.policy import OutboundPolicy
from core_alerts.outbound.redaction import install_log_redaction, is_sensitive_name, redact_url
from core_alerts.outbound.redirects import REDIRECT_STATUSES, redirect_target, rewrite_for_redirect
from core_alerts.outbound.resolver import Resolver, SystemResolver
from core_alerts.outbound.response import OutboundResponse, retry_after_for

_log = logging.getLogger("core_alerts.outbound")

# Framing and routing headers are the client's to set; a caller's value could smuggle requests.
_CLIENT_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
        "proxy-connection",
        "expect",
    }
)
# A kept-alive connection skips resolution; keep it short so DNS and policy changes apply.
_IDLE_CONNECTION_SECONDS = 5.0
_REMEMBERED_URLS = 1024
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE_CHARS = re.compile(r"[\r\n\x00]")


class OutboundClient:
    """An HTTP client that refuses what the policy forbids, at every hop and every connect.

    Use as `async with OutboundClient(policy) as client:`. One client serves every tenant;
    it keeps no cookies and reads no environment (proxies, .netrc, CA variables).
    `ssl_context` defaults to verified TLS with the certifi CA bundle.
    """

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        user_agent: str = "core-alerts",
    ) -> None:
        self._policy = policy
        self._clock = clock or SystemClock()
        self._user_agent = user_agent
        self._guard = AddressGuard(policy, resolver or SystemResolver())
        self._ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._session: aiohttp.ClientSession | None = None  # made inside the event loop
        self._destinations: dict[str, Destination] = {}
        install_log_redaction()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = new_session(
                self._guard,
                self._ssl_context,
                self._policy.max_connections,
                _IDLE_CONNECTION_SECONDS,
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: object = None,
        content: bytes | str | None = None,
        total_timeout: float | None = None,
    ) -> OutboundResponse:
        """Send one request and read the whole response (up to the policy's size cap).

        Redirects are followed up to the policy's limit, each target checked like the first.
        `total_timeout` lowers the policy's total timeout for this call; it cannot raise it.
        Any status is returned; call `raise_for_status()` to turn 4xx/5xx into OutboundFailed.
        """
        method = method.upper()
        if not _TOKEN.fullmatch(method):
            raise ValidationFailed(f"{method!r} is not an HTTP method", field="method")
        started = time.monotonic()
        try:
            destination = self._destination(url)
            body, base_headers = self._encode(headers, json, content)
            response = await self._within_budget(
                method, destination, base_headers, body, total_timeout
            )
        except (OutboundBlocked, OutboundFailed) as exc:
            outcome = "refused" if isinstance(exc, OutboundBlocked) else "failed"
            _log.warning("outbound %s %s %s: %s", method, redact_url(url), outcome, exc.message)
            raise
        if _log.isEnabledFor(logging.INFO):  # redacting the URL is not free
            _log.info(
                "outbound %s %s answered %d in %.3fs (%d bytes)",
                method,
                redact_url(url),
                response.status,
                time.monotonic() - started,
                len(response.body),
            )
        return response

    def _destination(self, url: str) -> Destination:
        """`parse_destination`, remembered: receivers send to the same few URLs again and
        again, and the checks that need no DNS give the same answer under one policy."""
        found = self._destinations.get(url)
        if found is None:
            found = parse_destination(url, self._policy)
            if len(self._destinations) >= _REMEMBERED_URLS:
                self._destinations.clear()
            self._destinations[url] = found
        return found

    async def _within_budget(
        self,
        method: str,
        destination: Destination,
        headers: dict[str, str],
        body: bytes,
        total_timeout: float | None,
    ) -> OutboundResponse:
        budget = self._policy.total_timeout
        if total_timeout is not None:
            budget = min(budget, total_timeout)
        started = time.monotonic()
        try:
            async with asyncio.timeout(budget):
                return await self._follow(method, destination, headers, body, started)
        except TimeoutError:
            raise OutboundFailed(
                f"{redact_url(str(destination.url))}: no complete response within {budget:g}s",
                reason=FailReason.TIMEOUT,
                retryable=True,
            ) from None

    async def _follow(
        self,
        method: str,
        destination: Destination,
        headers: dict[str, str],
        body: bytes,
        started: float,
    ) -> OutboundResponse:
        redirects = 0
        while True:
            result = await exchange(self._pool(), self._policy, method, destination, headers, body)
            location = result.headers.get("location")
            if result.status not in REDIRECT_STATUSES or location is None:
                return self._response(result, destination, redirects, started)
            if redirects >= self._policy.max_redirects:
                raise OutboundFailed(
                    f"{redact_url(str(destination.url))}: more than "
                    f"{self._policy.max_redirects} redirects",
                    reason=FailReason.TOO_MANY_REDIRECTS,
                    retryable=False,
                )
            redirects += 1
            target = redirect_target(destination, location, self._policy)
            if target.origin != destination.origin:
                headers = {k: v for k, v in headers.items() if not is_sensitive_name(k)}
            method, body, headers = rewrite_for_redirect(result.status, method, body, headers)
            destination = target

    def _response(
        self, result: Exchange, destination: Destination, redirects: int, started: float
    ) -> OutboundResponse:
        return OutboundResponse(
            status=result.status,
            headers=result.headers,
            body=result.body,
            elapsed=time.monotonic() - started,
            final_url=str(destination.url),
            redirects=redirects,
            retry_after=retry_after_for(result.status, result.headers, self._clock.now()),
        )

    def _encode(
        self, headers: Mapping[str, str] | None, json: object, content: bytes | str | None
    ) -> tuple[bytes, dict[str, str]]:
        merged = {"User-Agent": self._user_agent, "Accept-Encoding": "identity"}
        for name, value in (headers or {}).items():
            _check_header(name, value)
            for same in [k for k in merged if k.lower() == name.lower()]:
                del merged[same]
            merged[name] = value
        if json is not None and content is not None:
            raise ValidationFailed("pass either json or content, not both", field="body")
        if json is not None:
            body = _encode_json(json)
            if not any(k.lower() == "content-type" for k in merged):
                merged["Content-Type"] = "application/json"
        else:
            body = content.encode() if isinstance(content, str) else content or b""
        if len(body) > self._policy.max_request_bytes:
            raise OutboundFailed(
                f"request body of {len(body)} bytes exceeds the limit of "
                f"{self._policy.max_request_bytes} bytes",
                reason=FailReason.REQUEST_TOO_LARGE,
                retryable=False,
            )
        return body, merged


def _check_header(name: str, value: str) -> None:
    if not _TOKEN.fullmatch(name):
        raise ValidationFailed(f"{name!r} is not a valid header name", field="headers")
    if name.lower() in _CLIENT_HEADERS:
        raise ValidationFailed(f"header {name} is set by the client", field="headers")
    if _BAD_VALUE_CHARS.search(value) or not value.isascii():
        # The value is not quoted: it may be a credential.
        raise ValidationFailed(
            f"header {name} has a value with a line break, NUL or non-ASCII character",
            field="headers",
        )


def _encode_json(value: object) -> bytes:
    try:
        return jsonlib.dumps(value, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"the JSON body cannot be encoded: {exc}", field="body") from None
