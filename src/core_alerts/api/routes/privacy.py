"""GDPR requests about a data subject: export everything about them, or erase it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from core_alerts.api.deps import Caller, orchestrator, require
from core_alerts.api.encoding import json_response
from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import Scope

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
PrivacyAdmin = Annotated[Caller, require(Scope.PRIVACY_ADMIN)]


class SubjectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(
        min_length=3, max_length=512, description="E-mail address, user name, IP address ..."
    )


@router.post(
    "/export",
    summary="Everything stored about a data subject",
    responses={200: {"description": "tenant_id, subject, alerts (each with its history and "
                                    "decisions) and the audit entries of the subject as actor"}},
)  # fmt: skip
async def export(body: SubjectBody, orch: Orch, caller: PrivacyAdmin) -> Response:
    result = await orch.subjects.export(caller.tenant_id, body.subject)
    return json_response(result, headers={"Cache-Control": "no-store"})


@router.post("/erase", summary="Erase a data subject's alerts (the audit trail stays verifiable)")
async def erase(body: SubjectBody, orch: Orch, caller: PrivacyAdmin) -> Response:
    deleted = await orch.subjects.erase(caller.tenant_id, body.subject, caller.principal.subject)
    return json_response({"alerts_deleted": deleted})
