"""The connection layer of the HTTP stack: connect only to addresses the guard just checked.

The HTTP library asks this backend for a TCP stream to (host, port). The backend resolves the
host once, checks every answer and connects to a checked address, so a DNS answer that changes
between check and connect (rebinding) is never used. TLS and the Host header still use the
original name, because the library keeps its own view of the origin.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import httpcore

from core_alerts.outbound.guard import AddressGuard

_log = logging.getLogger("core_alerts.outbound")

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._sockets = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._guard.admit(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took over {timeout}s") from None
        error: httpcore.ConnectError | None = None
        for address in addresses:
            _log.debug("connecting to %s port %d for %s", address, port, host)
            try:
                return await self._sockets.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None  # admit() never returns an empty tuple
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("outbound calls use TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._sockets.sleep(seconds)
