"""SqliteConnections: the connections of a side store (audit, access, notify) on the SQLite file.

Writes run on the file's SharedWriter and reads on a thread of the store's own, so the event
loop never waits on the disk. Every write is one BEGIN IMMEDIATE transaction: SQLite admits
one writer at a time across connections and processes, so what a write reads at its start
still holds at its COMMIT.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from core_alerts.domain.errors import ConfigError, StorageUnavailable
from core_alerts.store.sqlite.schema import migrate
from core_alerts.store.sqlite.writer import SharedWriter, connect

T = TypeVar("T")
_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})

Conflict = Callable[[sqlite3.IntegrityError], Exception]
"""Turns a constraint violation into the error the store's callers expect."""


def check_synchronous(value: str) -> str:
    """The PRAGMA synchronous level, upper-cased; ConfigError when SQLite has no such level."""
    if value.upper() not in _SYNCHRONOUS:
        allowed = ", ".join(sorted(_SYNCHRONOUS))
        raise ConfigError(f"synchronous must be one of {allowed}, not {value!r}")
    return value.upper()


class SqliteConnections:
    """`name` names the reader thread (sqlite-<name>-reader); `what` names the store in
    errors."""

    def __init__(self, path: str, *, name: str, what: str, synchronous: str = "FULL") -> None:
        self.path = path
        self._name = name
        self._what = what
        self._synchronous = check_synchronous(synchronous)
        self._writer: SharedWriter | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._rconn: sqlite3.Connection | None = None

    def _migrate(self) -> None:
        assert self._writer is not None
        migrate(self._writer.conn())

    async def open(self) -> None:
        self._reader = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-{self._name}-reader")
        try:
            self._writer = await SharedWriter.acquire(self.path)
            await self._writer.run(self._migrate)
        except (OSError, sqlite3.Error) as exc:
            await self.close()  # no threads left behind
            raise StorageUnavailable(f"cannot open SQLite file {self.path}: {exc}") from None

    async def close(self) -> None:
        """Give the writer back and close the reader, after the work queued before."""
        writer, self._writer = self._writer, None
        reader, self._reader = self._reader, None
        if writer is not None:
            await writer.release()
        if reader is not None:
            await asyncio.get_running_loop().run_in_executor(reader, self._close_reader)
            reader.shutdown(wait=False)

    def _close_reader(self) -> None:
        conn, self._rconn = self._rconn, None
        if conn is not None:
            conn.close()

    def _not_open(self) -> StorageUnavailable:
        return StorageUnavailable(f"the {self._what} is not open", retry_after=5)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` on the query-only connection, on the reader thread."""
        if self._reader is None or self._writer is None:  # not migrated yet, or closed
            raise self._not_open()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._reader, self._reading, fn)
        except sqlite3.Error as exc:
            message = f"SQLite cannot read the {self._what}: {exc}"
            raise StorageUnavailable(message, retry_after=2) from None

    def _reading(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._rconn is None:
            conn = connect(self.path, self._synchronous)
            conn.execute("PRAGMA query_only=ON")
            self._rconn = conn
        return fn(self._rconn)

    async def write(
        self, fn: Callable[[sqlite3.Connection], T], *, conflict: Conflict | None = None
    ) -> T:
        """`fn` in one BEGIN IMMEDIATE transaction on the writer thread: all of it or nothing.

        A constraint violation becomes `conflict(exc)` when given; any other SQLite error
        means nothing was written and the caller may retry.
        """
        writer = self._writer
        if writer is None:
            raise self._not_open()
        try:
            return await writer.run(lambda: writer.transaction(fn, self._synchronous))
        except sqlite3.Error as exc:
            if conflict is not None and isinstance(exc, sqlite3.IntegrityError):
                raise conflict(exc) from None
            raise StorageUnavailable(f"SQLite cannot write: {exc}", retry_after=2) from None
