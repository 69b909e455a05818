"""The compliance report: SOC 2, ISO 27001, GDPR and HIPAA controls the service evidences."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import HTMLResponse, Response

from core_alerts.api.deps import Caller, orchestrator, require
from core_alerts.api.encoding import json_response, response_doc
from core_alerts.app import EngineOrchestrator
from core_alerts.compliance import ComplianceReport, render_html
from core_alerts.domain.access import Scope

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
PlatformAdmin = Annotated[Caller, require(Scope.TENANTS_ADMIN)]


@router.get(
    "/report",
    summary="Compliance checks against the live configuration (JSON or HTML)",
    responses=response_doc(ComplianceReport),
)
async def report(
    orch: Orch,
    _: PlatformAdmin,
    format: Annotated[Literal["json", "html"], Query(description="json or html.")] = "json",
) -> Response:
    result = await orch.compliance_manager.report()
    if format == "html":
        return HTMLResponse(render_html(result))
    return json_response(result)
