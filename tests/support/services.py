"""Find the real services tests need; skip on a laptop without them, fail in CI."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

REQUIRED = os.environ.get("CORE_ALERTS_REQUIRE_SERVICES") == "1"
PG_HOST = os.environ.get("CORE_ALERTS_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CORE_ALERTS_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CORE_ALERTS_TEST_PG_USER", "postgres")


def missing(what: str) -> None:
    """Skip the test with a reason, or fail it when CI requires every service."""
    message = f"{what} is not available"
    if REQUIRED:
        pytest.fail(f"{message}, and CORE_ALERTS_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_binary(name: str) -> str:
    path = shutil.which(name) or (
        f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None
    )
    if path is None:
        missing(f"the {name} binary (Debian package)")
    assert path is not None
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def temporary_pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test run; dropped afterwards. Yields its DSN."""
    if not port_open(PG_HOST, PG_PORT):
        missing(f"PostgreSQL on {PG_HOST}:{PG_PORT}")
    import asyncio

    import asyncpg

    name = f"ca_test_{uuid.uuid4().hex[:12]}"
    admin = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
