"""Run one client call for a command and turn failures into a message and an exit code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from core_alerts.cli.options import Conn
from core_alerts.cli.output import fail
from core_alerts.client import AlertsClient, ApiError

T = TypeVar("T")


async def _run(conn: Conn, action: Callable[[AlertsClient], Awaitable[T]]) -> T:
    async with conn.client() as client:
        return await action(client)


def problem_text(exc: ApiError) -> str:
    """The problem's detail first (what to fix), then status and title, field and item."""
    where = [f"{exc.status} {exc.title}"]
    if exc.field:
        where.append(f"field {exc.field}")
    if exc.index is not None:
        where.append(f"item {exc.index}")
    return f"{exc.detail} ({', '.join(where)})"


def call(conn: Conn, action: Callable[[AlertsClient], Awaitable[T]]) -> T:
    """Run `action` with a client for `conn`; exit 1 with a one-line message when it fails."""
    try:
        return asyncio.run(_run(conn, action))
    except ApiError as exc:
        fail(problem_text(exc))
    except httpx.ConnectError:
        fail(
            f"cannot connect: is core-alerts running at {conn.url}? "
            "start it with `core-alerts serve`"
        )
    except httpx.TimeoutException:
        fail(f"{conn.url} did not answer in time")
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        fail(f"cannot reach {conn.url}: {exc}")
