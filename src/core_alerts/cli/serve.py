"""Run the HTTP service in the foreground (uvicorn, uvloop, httptools)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import uvicorn

from core_alerts.api import create_app
from core_alerts.app import EngineOrchestrator
from core_alerts.telemetry import configure_logging


def serve(orch: EngineOrchestrator, *, on_ready: str | None = None) -> None:
    """Serve until SIGINT/SIGTERM: stop accepting, finish in-flight requests and commits."""
    s = orch.settings
    configure_logging(s.logging.level, s.logging.format)
    app = create_app(orch)
    if on_ready:
        app.router.on_startup.append(lambda: print(on_ready, flush=True))
    uvicorn.run(
        app,
        host=s.server.host,
        port=s.server.port,
        loop="uvloop",
        http="httptools",
        log_level=s.logging.level.lower(),
        access_log=False,
        timeout_graceful_shutdown=int(s.server.graceful_timeout),
        server_header=False,
    )


def start_alerts_engines(config: Mapping[str, Any] | None = None) -> None:
    """Start every engine and serve the API in the foreground (the seed's quick start)."""
    serve(EngineOrchestrator(config))
