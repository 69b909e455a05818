"""Receivers for other senders: Alertmanager webhooks, Grafana, PagerDuty Events v2, generic."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from core_alerts.api.body import read_json_body
from core_alerts.api.deps import Caller, orchestrator, require
from core_alerts.api.encoding import json_response, response_doc
from core_alerts.api.problems import count_rejection
from core_alerts.api.views import IngestResponse, ingest_response
from core_alerts.app import EngineOrchestrator
from core_alerts.domain import AlertNotFound, CoreAlertsError, ValidationFailed
from core_alerts.domain.access import Scope

router = APIRouter(prefix="/api/v1/receivers", tags=["receivers"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
Writer = Annotated[Caller, require(Scope.ALERTS_WRITE)]


async def _ingest(request: Request, orch: EngineOrchestrator, tenant: str, fmt: str) -> Response:
    body = await read_json_body(request, orch.settings.limits.max_body_bytes)
    results = await orch.alert_engine.ingest_payload(fmt, body, tenant_id=tenant)
    return json_response(ingest_response(results))


@router.post(
    "/alertmanager",
    summary="Alertmanager webhook notifications (webhook_configs url)",
    responses=response_doc(IngestResponse),
)
async def alertmanager_webhook(request: Request, orch: Orch, caller: Writer) -> Response:
    return await _ingest(request, orch, caller.tenant_id, "alertmanager-webhook")


@router.post(
    "/grafana",
    summary="Grafana alerting webhooks (unified and legacy)",
    responses=response_doc(IngestResponse),
)
async def grafana(request: Request, orch: Orch, caller: Writer) -> Response:
    return await _ingest(request, orch, caller.tenant_id, "grafana")


@router.post(
    "/generic/{name}",
    summary="Any JSON, read through the field mapping `receivers.generic.<name>`",
    responses=response_doc(IngestResponse),
)
async def generic(name: str, request: Request, orch: Orch, caller: Writer) -> Response:
    fmt = f"generic:{name}"
    if not orch.alert_engine.has_format(fmt):
        raise AlertNotFound(f"no generic receiver named {name!r} is configured")
    return await _ingest(request, orch, caller.tenant_id, fmt)


def _pagerduty_error(exc: CoreAlertsError, status: int) -> Response:
    # PagerDuty clients parse this shape; it names the problem like our problem+json does.
    body = {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": [exc.message],
    }
    return json_response(body, status)


@router.post(
    "/pagerduty/v2/enqueue",
    status_code=202,
    summary="PagerDuty Events API v2 (trigger, acknowledge, resolve)",
    responses={202: {"description": "Event accepted and committed; body has the dedup_key."}},
)
async def pagerduty(request: Request, orch: Orch, caller: Writer) -> Response:
    try:
        body = await read_json_body(request, orch.settings.limits.max_body_bytes)
        sends = orch.alert_engine.decode("pagerduty", body, tenant_id=caller.tenant_id)
    except ValidationFailed as exc:
        count_rejection(request, exc)
        return _pagerduty_error(exc, 413 if exc.code == "limit_exceeded" else 400)
    except CoreAlertsError as exc:
        count_rejection(request, exc)
        return _pagerduty_error(exc, 415 if exc.code == "unsupported_media_type" else 400)
    await orch.alert_engine.ingest(sends)
    reply = {"status": "success", "message": "Event processed", "dedup_key": sends[0].dedup_key}
    return json_response(reply, 202)
