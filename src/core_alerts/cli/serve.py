"""Run the HTTP service in the foreground (uvicorn, uvloop, httptools)."""

from __future__ import annotations

import contextlib
import gc
import socket
from collections.abc import Callable, Generator, Mapping
from typing import Any

import uvicorn

from core_alerts.api import create_app
from core_alerts.app import EngineOrchestrator
from core_alerts.telemetry import configure_logging

_GC_GEN0 = 20_000


class _Server(uvicorn.Server):
    """uvicorn, but a SIGTERM/SIGINT that drained cleanly exits 0 and the banner follows
    readiness."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], str] | None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            yield
            # uvicorn re-raises the signal after shutdown, which makes the exit code -15;
            # the drain has finished by now, so a clean exit is the truth.
            self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # What exists after start-up lives as long as the process: take it out of the
        # collector's scans, and collect the young generation less often (an ingest batch
        # allocates thousands of short-lived objects; every gen-0 pass costs time).
        gc.freeze()
        gc.set_threshold(_GC_GEN0, 10, 10)
        if self._on_ready and self.started:
            print(self._on_ready(), flush=True)


def serve(orch: EngineOrchestrator, *, on_ready: Callable[[], str] | None = None) -> None:
    """Serve until SIGINT/SIGTERM: stop accepting, finish in-flight requests and commits."""
    s = orch.settings
    configure_logging(s.logging.level, s.logging.format)
    config = uvicorn.Config(
        create_app(orch),
        host=s.server.host,
        port=s.server.port,
        loop="uvloop",
        http="httptools",
        log_level=s.logging.level.lower(),
        access_log=False,
        timeout_graceful_shutdown=int(s.server.graceful_timeout),
        server_header=False,
    )
    _Server(config, on_ready).run()


def start_alerts_engines(config: Mapping[str, Any] | None = None) -> None:
    """Start every engine and serve the API in the foreground (the seed's quick start)."""
    serve(EngineOrchestrator(config))
