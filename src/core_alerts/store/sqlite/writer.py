"""SharedWriter: one writer connection and thread per SQLite file in this process.

SQLite admits one writer at a time. When each store of a file (alerts, notifications, audit,
access) writes on a connection of its own, the stores queue on the file lock, and a
connection that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5, 10, 15, 20,
25 ms ...), however short the write it waits for. Under load those sleeps, not the disk,
made most of the commit latency. On one shared thread the writes of every store queue in
order and none of them sleeps. Other processes (the CLI) still meet the file lock, which
`busy_timeout` covers.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar, TypeVar

T = TypeVar("T")
CACHE_KIB = 65_536
"""Page cache of the writer and of the alert store's readers: the hot indexes stay in memory."""


def connect(path: str, synchronous: str = "FULL", cache_kib: int = 0) -> sqlite3.Connection:
    """A connection as every store of the service opens it (WAL, foreign keys); `cache_kib`
    raises SQLite's page cache above its default."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")  # the access tables reference their tenant
    if cache_kib:
        conn.execute(f"PRAGMA cache_size=-{cache_kib}")
    return conn


def _key(path: str) -> str:
    """One writer per file; two spellings of one file (a symlink) get two, which the file
    lock still keeps correct."""
    return os.path.abspath(path)


class SharedWriter:
    """Get one with `await SharedWriter.acquire(path)`, give it back with `release()`.

    `run` executes a function on the writer thread; only that thread touches `conn`.
    Each transaction names its `synchronous` level, so stores keep their own durability.
    """

    _open: ClassVar[dict[str, SharedWriter]] = {}

    def __init__(self, key: str, path: str) -> None:
        self._key = key
        self.path = path
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._conn: sqlite3.Connection | None = None
        self._synchronous = ""
        self._users = 0

    @classmethod
    async def acquire(cls, path: str) -> SharedWriter:
        """The writer of `path` (opened on first use); raises sqlite3.Error or OSError."""
        key = _key(path)
        writer = cls._open.get(key)
        if writer is None:
            writer = cls._open[key] = SharedWriter(key, path)
        writer._users += 1
        try:
            await writer.run(writer._ensure_open)
        except BaseException:
            await writer.release()
            raise
        return writer

    def _ensure_open(self) -> None:
        if self._conn is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = connect(self.path, "FULL", CACHE_KIB)
            self._synchronous = "FULL"

    async def release(self) -> None:
        """The last user closes the connection and ends the thread."""
        self._users -= 1
        if self._users > 0:
            return
        if SharedWriter._open.get(self._key) is self:
            del SharedWriter._open[self._key]
        await self.run(self._close)
        self._executor.shutdown(wait=False)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def conn(self, synchronous: str = "FULL") -> sqlite3.Connection:
        """The connection, at `synchronous` for the transaction about to start (writer
        thread only)."""
        conn = self._conn
        if conn is None:
            raise sqlite3.OperationalError("the writer connection is closed")
        if synchronous != self._synchronous:
            conn.execute(f"PRAGMA synchronous={synchronous}")
            self._synchronous = synchronous
        return conn

    def transaction(self, fn: Callable[[sqlite3.Connection], T], synchronous: str) -> T:
        """`fn` in one BEGIN IMMEDIATE transaction (writer thread only): all or nothing."""
        conn = self.conn(synchronous)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result
