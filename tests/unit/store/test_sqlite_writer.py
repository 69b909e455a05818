"""SharedWriter: the stores of one SQLite file write through one connection on one thread."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from core_alerts.config import LimitSettings
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import StorageUnavailable
from core_alerts.domain.ingest import NormalizedAlert
from core_alerts.ingest.normalize import SourceContext, normalize
from core_alerts.store.sqlite import SqliteAlertStore, SqliteNotifyStore
from core_alerts.store.sqlite.connections import SqliteConnections
from core_alerts.store.sqlite.writer import SharedWriter

_SYNCHRONOUS = {1: "NORMAL", 2: "FULL"}


def _send(clock: FixedClock) -> NormalizedAlert:
    ctx = SourceContext("acme", "test", clock.now(), LimitSettings(), None)
    return normalize(ctx, labels={"alertname": "A"})


async def test_stores_of_one_file_share_one_writer_thread(tmp_path):
    clock = FixedClock(1_800_000_000.0)
    path = str(tmp_path / "one.db")
    alerts = SqliteAlertStore(path, clock=clock)
    notify = SqliteNotifyStore(path, clock=clock)
    await alerts.open()
    await notify.open()
    try:
        assert alerts._shared is not None
        assert notify._db._writer is alerts._shared  # one writer for the file
        threads: set[int] = set()

        def where(conn: sqlite3.Connection) -> None:
            threads.add(threading.get_ident())

        await notify._db.write(where)
        await alerts._write(where)
        assert len(threads) == 1
        [result] = await alerts.apply_sends([_send(clock)])
        assert result.outcome == "created"
    finally:
        await notify.close()
    # the other store keeps writing after one closed
    [again] = await alerts.apply_sends([_send(clock)])
    assert again.occurrences == 2
    await alerts.close()
    assert SharedWriter._open.get(str(tmp_path / "one.db")) is None  # the last one closed it
    with pytest.raises(StorageUnavailable, match="closed"):
        await alerts._write(lambda conn: None)


async def test_each_transaction_runs_at_its_stores_synchronous_level(tmp_path):
    path = str(tmp_path / "levels.db")
    normal = SqliteConnections(path, name="n", what="normal store", synchronous="NORMAL")
    full = SqliteConnections(path, name="f", what="full store", synchronous="FULL")
    await normal.open()
    await full.open()
    try:

        def level(conn: sqlite3.Connection) -> str:
            return _SYNCHRONOUS[conn.execute("PRAGMA synchronous").fetchone()[0]]

        assert await normal.write(level) == "NORMAL"
        assert await full.write(level) == "FULL"
        assert await normal.write(level) == "NORMAL"
    finally:
        await normal.close()
        await full.close()


async def test_a_failed_transaction_leaves_the_shared_connection_usable(tmp_path):
    path = str(tmp_path / "rollback.db")
    a = SqliteConnections(path, name="a", what="store a")
    b = SqliteConnections(path, name="b", what="store b")
    await a.open()
    await b.open()
    try:
        await a.write(lambda c: c.execute("CREATE TABLE t (x INTEGER)"))

        def half(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO t VALUES (1)")
            raise sqlite3.OperationalError("disk I/O error")

        with pytest.raises(StorageUnavailable):
            await a.write(half)
        await b.write(lambda c: c.execute("INSERT INTO t VALUES (2)"))
        rows = await b.read(lambda c: c.execute("SELECT x FROM t").fetchall())
        assert rows == [(2,)]  # the failed one wrote nothing; the next one committed
    finally:
        await a.close()
        await b.close()
