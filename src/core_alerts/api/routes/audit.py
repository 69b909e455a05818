"""The tenant's audit trail: list its entries and verify its hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from core_alerts.api.deps import Caller, orchestrator, require
from core_alerts.api.encoding import json_response, response_doc
from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import Scope
from core_alerts.domain.audit import ChainReport
from core_alerts.domain.errors import NotFound
from core_alerts.security import AuditTrail
from core_alerts.store import AuditPage

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
Auditor = Annotated[Caller, require(Scope.AUDIT_READ)]


def _trail(orch: EngineOrchestrator) -> AuditTrail:
    trail = orch.security_manager.trail
    if trail is None:
        raise NotFound("the audit trail is off (security.audit_enabled: false)")
    return trail


@router.get("", summary="Audit entries, oldest first", responses=response_doc(AuditPage))
async def list_entries(
    orch: Orch,
    caller: Auditor,
    after_seq: Annotated[int | None, Query(ge=0, description="Cursor: next_after_seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(max_length=200, description="Action prefix.")] = None,
    actor: Annotated[str | None, Query(max_length=256)] = None,
    since: Annotated[float | None, Query(description="Epoch seconds, inclusive.")] = None,
    until: Annotated[float | None, Query(description="Epoch seconds, exclusive.")] = None,
) -> Response:
    trail = _trail(orch)
    await trail.flush()  # read your own writes
    page = await trail.log.list(
        caller.tenant_id, after_seq=after_seq, limit=limit, action_prefix=action,
        actor=actor, since=since, until=until,
    )  # fmt: skip
    return json_response(page)


@router.get(
    "/verify",
    summary="Verify the tenant's hash chain; names the first tampered entry",
    responses=response_doc(ChainReport),
)
async def verify(orch: Orch, caller: Auditor) -> Response:
    report = await _trail(orch).verify(caller.tenant_id)
    return json_response(report, 200 if report.ok else 409)
