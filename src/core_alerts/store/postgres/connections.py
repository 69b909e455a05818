"""PostgresPool: the asyncpg pool of a side store (audit, access, notify) and its errors.

Opening migrates the schema; a tenant transaction first runs the row-level wall (see
schema.wall_statement). asyncpg and socket errors come out as the domain's errors.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg

from core_alerts.domain.errors import ConfigError, StorageUnavailable
from core_alerts.store.postgres.schema import open_migrated_pool

# Connection loss, refused/too many connections, timeouts, server shutdown, and whatever else
# the server refuses: nothing was committed, and the caller may retry later.
UNAVAILABLE = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError,
               OSError, TimeoutError)  # fmt: skip

Conflict = Callable[[asyncpg.UniqueViolationError], Exception]
"""Turns a unique violation into the error the store's callers expect."""


@contextlib.contextmanager
def mapped(what: str, conflict: Conflict | None = None) -> Iterator[None]:
    """Translate asyncpg and socket errors into the domain's errors."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        if conflict is None:
            raise _unavailable(what, exc) from exc
        raise conflict(exc) from exc
    except asyncpg.ClientConfigurationError as exc:
        raise ConfigError(f"PostgreSQL connection settings are invalid: {exc}") from exc
    except UNAVAILABLE as exc:
        raise _unavailable(what, exc) from exc


def _unavailable(what: str, exc: Exception) -> StorageUnavailable:
    message = f"PostgreSQL cannot {what}: {type(exc).__name__}: {exc}"
    return StorageUnavailable(message, retry_after=2)


class PostgresPool:
    """`store` names the store in errors; `role` is the service role of the row-level wall
    (None: the login's own rights, the wall names the tenant only)."""

    def __init__(
        self,
        dsn: str,
        *,
        store: str,
        app_name: str,
        max_size: int,
        connect_timeout: float,
        command_timeout: float | None,
        role: str | None,
    ) -> None:
        self._dsn = dsn
        self._store = store
        self._app_name = app_name
        self._max_size = max_size
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._role = role
        self._wall = ""  # set at open: the statement that opens each tenant transaction
        self._pool: Any = None

    async def open(self) -> None:
        with mapped("connect"):
            pool, self._wall = await open_migrated_pool(
                self._dsn,
                min_size=1,
                max_size=self._max_size,
                connect_timeout=self._connect_timeout,
                command_timeout=self._command_timeout,
                app_name=self._app_name,
                role=self._role,
            )
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=self._command_timeout)
            except UNAVAILABLE:
                pool.terminate()

    @contextlib.asynccontextmanager
    async def connection(self, what: str, conflict: Conflict | None = None) -> AsyncIterator[Any]:
        """A connection of the pool; errors in the block are mapped (see `mapped`)."""
        if self._pool is None:
            raise StorageUnavailable(f"the {self._store} is not open", retry_after=5)
        with mapped(what, conflict):
            async with self._pool.acquire(timeout=self._connect_timeout) as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def transaction(
        self, tenant_id: str, what: str, conflict: Conflict | None = None
    ) -> AsyncIterator[Any]:
        """A transaction as the service role that sees `tenant_id`'s rows ('*': all)."""
        async with self.connection(what, conflict) as conn, conn.transaction():
            await conn.execute(self._wall, tenant_id)
            yield conn
