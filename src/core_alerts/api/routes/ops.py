"""Health, readiness and the service's own metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Security
from starlette.responses import Response

from core_alerts.api.deps import CREDENTIALS, authorize, orchestrator
from core_alerts.api.encoding import json_response
from core_alerts.api.problems import problem
from core_alerts.app import EngineOrchestrator
from core_alerts.domain import CoreAlertsError
from core_alerts.domain.access import Scope

router = APIRouter(tags=["operations"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]


@router.get("/healthz", summary="Liveness: the process serves requests")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz", summary="Readiness: the database answers")
async def readyz(orch: Orch) -> Response:
    try:
        await orch.store.ping()
    except CoreAlertsError as exc:
        return problem(503, "NotReady", exc.message, code="not_ready", headers={"Retry-After": "5"})
    return json_response({"status": "ready", "pending_writes": await orch.store.pending_writes()})


async def metrics_access(
    request: Request,
    authorization: str | None = Security(CREDENTIALS),
) -> None:
    """Public unless `security.metrics_public` is off; then it needs metrics:read."""
    if not request.app.state.orchestrator.settings.security.metrics_public:
        await authorize(request, Scope.METRICS_READ, authorization, None)


metrics_access.required_scope = Scope.METRICS_READ  # type: ignore[attr-defined]


@router.get(
    "/metrics",
    summary="Prometheus metrics of the service",
    dependencies=[Depends(metrics_access)],
)
async def metrics(orch: Orch) -> Response:
    orch.metrics.pending_commit.set(await orch.store.pending_writes())
    return Response(orch.metrics.render(), media_type=orch.metrics.content_type)
