"""Kept-alive connections: reused while open, replaced once the server has closed them."""

from __future__ import annotations

import asyncio

from core_alerts.outbound import OutboundClient, OutboundPolicy

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


async def serve(close_after_answer: bool) -> tuple[asyncio.Server, list[int]]:
    """A raw HTTP/1.1 server; counts connections; may hang up right after each answer."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(RESPONSE)
                await writer.drain()
                if close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), connections


async def test_an_open_connection_is_reused(loopback_allowed: OutboundPolicy) -> None:
    server, connections = await serve(close_after_answer=False)
    port = server.sockets[0].getsockname()[1]
    async with server, OutboundClient(loopback_allowed) as client:
        for _ in range(3):
            assert (await client.request("GET", f"http://127.0.0.1:{port}/")).status == 200
    assert len(connections) == 1


async def test_a_connection_the_server_closed_is_not_reused(
    loopback_allowed: OutboundPolicy,
) -> None:
    server, connections = await serve(close_after_answer=True)
    port = server.sockets[0].getsockname()[1]
    async with server, OutboundClient(loopback_allowed) as client:
        for _ in range(3):
            assert (await client.request("GET", f"http://127.0.0.1:{port}/")).status == 200
            await asyncio.sleep(0.05)  # let the server's FIN arrive
    assert len(connections) == 3  # each request saw the closed one as readable and dialled anew
