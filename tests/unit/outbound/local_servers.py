"""Real HTTP servers on loopback for the outbound tests: a connection-counting canary and an
aiohttp app with the behaviours a hostile or broken endpoint shows."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from core_alerts.outbound.policy import IPAddress

CHUNK = b"x" * 65536
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class CountingServer:
    """Counts every TCP connection it accepts and answers each with a small 200."""

    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    request_heads: list[bytes] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> CountingServer:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            self.request_heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\ncanary")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def host_headers(self) -> list[str]:
        found = []
        for head in self.request_heads:
            for line in head.decode("latin-1").split("\r\n"):
                if line.lower().startswith("host:"):
                    found.append(line.split(":", 1)[1].strip())
        return found


@dataclass
class SilentServer:
    """Accepts connections, reads, and never answers."""

    port: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def __aenter__(self) -> SilentServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        for writer in self._writers:
            writer.close()
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        while await reader.read(4096):
            pass


async def _echo(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "method": request.method,
            "host": request.headers.get("Host"),
            "headers": dict(request.headers),
            "body": (await request.read()).decode(),
            "path_qs": request.path_qs,
        }
    )


async def _redirect(request: web.Request) -> web.Response:
    status = int(request.query.get("status", "302"))
    return web.Response(status=status, headers={"Location": request.query["to"]})


async def _loop(request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": "/loop?token=LOOPSECRET"})


async def _stream_forever(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        while True:  # ends when the client hangs up and the write fails
            await response.write(CHUNK)
    return response


async def _declared_huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Length": str(1 << 40)})
    await response.prepare(request)
    await response.write(b"x")
    return response


async def _drip(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        while True:  # each byte arrives well within the read timeout; the whole never ends
            await response.write(b"x")
            await asyncio.sleep(0.02)
    return response


async def _status(request: web.Request) -> web.Response:
    headers = {}
    if "retry_after" in request.query:
        headers["Retry-After"] = request.query["retry_after"]
    return web.Response(status=int(request.query["code"]), headers=headers, text="nope")


def make_app(hits: list[str]) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        hits.append(request.path)
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.router.add_route("*", "/echo", _echo)
    app.router.add_route("*", "/redirect", _redirect)
    app.router.add_get("/loop", _loop)
    app.router.add_get("/stream-forever", _stream_forever)
    app.router.add_get("/declared-huge", _declared_huge)
    app.router.add_get("/drip", _drip)
    app.router.add_route("*", "/status", _status)
    return app


class AppServer:
    """The aiohttp app on 127.0.0.1, over TLS when given a server context."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self.hits: list[str] = []  # request paths, in arrival order
        self._runner = web.AppRunner(make_app(self.hits), shutdown_timeout=1.0, access_log=None)
        self.port = 0

    async def __aenter__(self) -> AppServer:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


class StaticResolver:
    """Answers from a table; counts questions. Unknown names do not resolve."""

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self._table = table
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        self.asked.append(host)
        if host not in self._table:
            raise OSError(-2, "Name or service not known")
        return [ipaddress.ip_address(a) for a in self._table[host]]


class ScriptedResolver:
    """Gives each answer once, in order, then repeats the last (a rebinding DNS server)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self._answers = list(answers)
        self.asked = 0

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        answer = self._answers[min(self.asked, len(self._answers) - 1)]
        self.asked += 1
        return [ipaddress.ip_address(a) for a in answer]


class HangingResolver:
    """Never answers (a DNS server that drops queries)."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")
