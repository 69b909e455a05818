"""The connection layer of the HTTP stack: connect only to addresses the guard just checked.

aiohttp asks this resolver for the addresses of a host each time it opens a connection (its
DNS cache is off). The resolver resolves the host once, checks every answer and returns only
checked addresses, so a DNS answer that changes between check and connect (rebinding) is
never used. TLS and the Host header still use the original name. URLs with a literal address
never reach a resolver: `parse_destination` checks those before any request.
"""

from __future__ import annotations

import socket
import ssl

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from core_alerts.outbound.guard import AddressGuard


class GuardedResolver(AbstractResolver):
    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in await self._guard.admit(host, port)
        ]

    async def close(self) -> None:
        pass


def new_session(
    guard: AddressGuard, ssl_context: ssl.SSLContext, max_connections: int, idle_seconds: float
) -> aiohttp.ClientSession:
    """A session that keeps no cookies, reads no environment and leaves bodies as sent."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(guard),
        use_dns_cache=False,
        ssl=ssl_context,
        limit=max_connections,
        limit_per_host=0,
        keepalive_timeout=idle_seconds,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        auto_decompress=False,
        skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
        timeout=aiohttp.ClientTimeout(total=None),
    )
    # aiohttp re-sends an idempotent request once, unasked, when the connection drops. One
    # attempt must stay one request: delivery retries with backoff and counts its attempts.
    # (No public switch exists as of aiohttp 3.14.)
    session._retry_connection = False
    return session
