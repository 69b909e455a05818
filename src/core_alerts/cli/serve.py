"""Run the HTTP service in the foreground (uvicorn, uvloop, httptools)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any

import structlog
import uvicorn

from core_alerts.api import create_app
from core_alerts.app import EngineOrchestrator
from core_alerts.telemetry import configure_logging

_GC_GEN0 = 20_000
log = structlog.get_logger(__name__)


class _Server(uvicorn.Server):
    """uvicorn, but a SIGTERM/SIGINT that drained cleanly exits 0 and the banner follows
    readiness."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_ready: Callable[[], str] | None,
        on_hangup: Callable[[], Awaitable[object]] | None = None,
        before_start: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(config)
        self._before_start = before_start
        self._on_ready = on_ready
        self._on_hangup = on_hangup
        self._reloads: set[asyncio.Task[object]] = set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            yield
            # uvicorn re-raises the signal after shutdown, which makes the exit code -15;
            # the drain has finished by now, so a clean exit is the truth.
            self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if self._before_start is not None:
            await self._before_start()
        await super().startup(sockets)
        # What exists after start-up lives as long as the process: take it out of the
        # collector's scans, and collect the young generation less often (an ingest batch
        # allocates thousands of short-lived objects; every gen-0 pass costs time).
        gc.freeze()
        gc.set_threshold(_GC_GEN0, 10, 10)
        if self._on_hangup is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        if self._on_ready and self.started:
            print(self._on_ready(), flush=True)

    def _hangup(self) -> None:
        """SIGHUP reloads the routing configuration, as it does for Alertmanager."""
        assert self._on_hangup is not None
        task = asyncio.ensure_future(self._on_hangup())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)


async def _reload(orch: EngineOrchestrator) -> None:
    if orch.notifications is None:
        return
    errors = await orch.notifications.reload()
    if errors:
        log.error("config reload failed; the previous config stays in force", errors=errors)
    else:
        log.info("config reloaded")


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
    pool = orch.alert_engine.decode_pool
    _Server(config, on_ready, lambda: _reload(orch), pool.start if pool else None).run()


def start_alerts_engines(config: Mapping[str, Any] | None = None) -> None:
    """Start every engine and serve the API in the foreground (the seed's quick start)."""
    serve(EngineOrchestrator(config))
