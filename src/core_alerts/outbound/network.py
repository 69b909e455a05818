"""The connection layer of the HTTP stack: connect only to addresses the guard just checked.

The HTTP library asks this backend for a TCP stream to (host, port). The backend resolves the
host once, checks every answer and connects to a checked address, so a DNS answer that changes
between check and connect (rebinding) is never used. TLS and the Host header still use the
original name, because the library keeps its own view of the origin.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

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
                stream = await self._sockets.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return _KeptSocketStream(stream)
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


class _KeptSocketStream(httpcore.AsyncNetworkStream):
    """A stream that answers the pool's "is this idle connection readable?" from the socket
    it keeps, instead of asking the stream for its attributes.

    The pool asks that of every idle connection on every request; the stream's answer builds
    its whole attribute map, peer-name system call included, each time: a quarter of the
    CPU of a burst of deliveries, measured with py-spy.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _KeptSocketStream(tls)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._stream.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once (data, or the end of a closed connection)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
