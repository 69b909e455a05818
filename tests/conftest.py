"""Shared fixtures: an in-process orchestrator, a live server, a fresh PostgreSQL DB."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.config import load_settings
from core_alerts.domain.clock import FixedClock
from tests.support.server import ServerProcess
from tests.support.services import temporary_pg_database


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000.0)


@pytest.fixture
async def orchestrator(tmp_path: Path, clock: FixedClock) -> AsyncIterator[EngineOrchestrator]:
    settings = load_settings({"database": {"sqlite_path": str(tmp_path / "t.db")}}, environ={})
    orch = EngineOrchestrator(settings=settings, clock=clock)
    await orch.start_all()
    yield orch
    await orch.stop_all()


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    with temporary_pg_database() as dsn:
        yield dsn


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path).start()
    yield server
    server.stop()
