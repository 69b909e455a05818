"""Loopback HTTP servers standing in for notification receivers (webhook, Slack, PagerDuty
...): they record every request and answer each with a scripted Answer (a status, a hang or a
connection reset).

A stand-in that keeps state (Opsgenie's alerts, ServiceNow's records) subclasses Receiver and
overrides `respond`; answers queued with `queue` still come first, so a test can script a
failure for any request.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import pytest
from aiohttp import web

from core_alerts.notify.channels.base import DeliveryFailed


@dataclass
class Seen:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    """What the receiver does with one request: `kind` is answer, hang or reset."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    kind: str = "answer"

    @classmethod
    def of_json(cls, data: Any, status: int = 200, **headers: str) -> Answer:
        return cls(status, json.dumps(data), headers, "application/json")


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every request (any path) and answers each
    with the next queued Answer, or with `respond(seen)` when none is queued (200 with an
    empty body unless a subclass says otherwise)."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.answers: list[Answer] = []
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        self.port = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def respond(self, seen: Seen) -> Answer:
        """The answer to a request no queued Answer is left for."""
        return Answer()

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release.set()
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        query = dict(request.query)
        seen = Seen(request.method, request.path, request.headers.copy(), body, query)
        self.requests.append(seen)
        answer = self.answers.pop(0) if self.answers else self.respond(seen)
        if answer.kind == "hang":
            await self._release.wait()
        elif answer.kind == "reset":
            reset_connection(request)
        return web.Response(
            status=answer.status,
            body=answer.body.encode(),
            headers={"Content-Type": answer.content_type, **answer.headers},
        )


def reset_connection(request: web.Request) -> None:
    """Drop the connection with a TCP RST instead of answering."""
    transport = request.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


SHORT_TIMEOUT = 0.3
"""The `timeout` a channel under test gets, so that a hanging receiver fails it quickly."""


@dataclass(frozen=True)
class Failure:
    """A failure answer, and the DeliveryFailed a channel must turn it into: whether it is
    retryable, the Retry-After it carries, the HTTP status, and a pattern of its message."""

    answer: Answer
    retryable: bool
    retry_after: float | None
    status: int | None
    message: str

    async def raised_by(self, sending: Awaitable[None]) -> DeliveryFailed:
        """The DeliveryFailed `sending` raises, checked against this failure."""
        with pytest.raises(DeliveryFailed, match=self.message) as info:
            await sending
        failed = info.value
        assert (failed.retryable, failed.retry_after, failed.status) == (
            self.retryable,
            self.retry_after,
            self.status,
        )
        return failed


FAILURES = [
    pytest.param(Failure(Answer(400, "bad payload"), False, None, 400, "answered 400"), id="400"),
    pytest.param(Failure(Answer(500, "boom"), True, None, 500, "answered 500"), id="500"),
    pytest.param(
        Failure(Answer(429, headers={"Retry-After": "7"}), True, 7.0, 429, "answered 429"),
        id="429",
    ),
    pytest.param(
        Failure(Answer(503, headers={"Retry-After": "30"}), True, 30.0, 503, "answered 503"),
        id="503",
    ),
    pytest.param(
        Failure(
            Answer(kind="hang"),
            True,
            None,
            None,
            re.escape(f"no complete response within {SHORT_TIMEOUT}s"),
        ),
        id="hang",
    ),
    pytest.param(Failure(Answer(kind="reset"), True, None, None, "connection lost"), id="reset"),
]
"""Every way an HTTP receiver fails, for a channel whose timeout is SHORT_TIMEOUT."""
