"""create_app: the FastAPI application around an EngineOrchestrator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from core_alerts import __version__
from core_alerts.api import problems
from core_alerts.api.audit import AuditMiddleware
from core_alerts.api.encoding import components
from core_alerts.api.fastpath import IngestFastPath
from core_alerts.api.routes import (
    access,
    alertmanager,
    alerts,
    audit,
    compliance,
    notifications,
    ops,
    privacy,
    receivers,
)
from core_alerts.app import EngineOrchestrator


def create_app(orchestrator: EngineOrchestrator | None = None) -> FastAPI:
    orch = orchestrator or EngineOrchestrator()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await orch.start()
        try:
            yield
        finally:
            await orch.stop_all()

    app = FastAPI(
        title="core-alerts",
        version=__version__,
        description="Alert ingestion, deduplication and lifecycle; Alertmanager API v2.",
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.orchestrator = orch
    problems.install(app)
    app.add_middleware(IngestFastPath)  # inside the audit middleware (added after it)
    app.add_middleware(AuditMiddleware)
    for module in (
        alerts, alertmanager, receivers, access, audit, compliance, privacy, notifications, ops,
    ):  # fmt: skip
        app.include_router(module.router)
    _document(app)
    return app


def _document(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(components())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
