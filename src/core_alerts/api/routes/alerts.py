"""REST v1: ingest, list, show, explain and change the state of alerts."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from core_alerts.api.body import read_json_body
from core_alerts.api.deps import Caller, known_query_only, orchestrator, require
from core_alerts.api.encoding import body_doc, json_response, response_doc
from core_alerts.api.views import (
    AlertDetailView,
    AlertListView,
    AlertView,
    ExplanationView,
    IngestResponse,
    alert_view,
    detail_view,
    explanation_view,
    ingest_response,
)
from core_alerts.app import EngineOrchestrator
from core_alerts.domain import AlertNotFound, AlertSeverity, AlertStatus, ValidationFailed
from core_alerts.domain.access import Scope
from core_alerts.domain.matchers import Matcher, MatcherSyntax, parse_matchers_as
from core_alerts.ingest import NativeAlert
from core_alerts.security import CredentialKind
from core_alerts.store import AlertQuery

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
Reader = Annotated[Caller, require(Scope.ALERTS_READ)]
Writer = Annotated[Caller, require(Scope.ALERTS_WRITE)]
Acker = Annotated[Caller, require(Scope.ALERTS_ACK)]


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: str = Field("anonymous", min_length=1, max_length=128, description="Who acts.")
    comment: str = Field("", max_length=4096, description="Why (kept in the history).")


@router.post(
    "",
    status_code=200,
    summary="Ingest one alert or a list (all or nothing)",
    openapi_extra=body_doc(NativeAlert | list[NativeAlert], "One alert or a list of alerts."),
    responses=response_doc(IngestResponse),
)
async def post_alerts(request: Request, orch: Orch, caller: Writer) -> Response:
    body = await read_json_body(request, orch.settings.limits.max_body_bytes)
    results = await orch.alert_engine.ingest_payload("native", body, tenant_id=caller.tenant_id)
    return json_response(ingest_response(results))


def _cursor_decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
        if raw.startswith("s") and raw[1:].isdigit():
            return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationFailed(
        "cursor is not valid; pass next_cursor from a previous page", field="cursor"
    )


def _cursor_encode(seq: int | None) -> str | None:
    return (
        None if seq is None else base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")
    )


def parse_filters(filters: list[str], syntax: MatcherSyntax = "classic") -> list[Matcher]:
    """Label matchers from `filter` parameters, read in `notifications.matcher_syntax`."""
    matchers: list[Matcher] = []
    for text in filters:
        try:
            matchers.extend(parse_matchers_as(text, syntax))
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="filter") from None
    return matchers


@router.get(
    "",
    summary="List alerts, newest first",
    responses=response_doc(AlertListView),
    dependencies=[Depends(known_query_only)],
)
async def list_alerts(
    orch: Orch,
    caller: Reader,
    status: Annotated[list[AlertStatus] | None, Query(description="Statuses to include.")] = None,
    severity: Annotated[list[AlertSeverity] | None, Query(description="Severities.")] = None,
    filter: Annotated[
        list[str] | None, Query(description='Label matchers, e.g. `team="db"`, `env=~"prod.*"`.')
    ] = None,
    since: Annotated[datetime | None, Query(description="Last seen at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Started at or before.")] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    for bound, name in ((since, "since"), (until, "until")):
        if bound is not None and bound.tzinfo is None:
            raise ValidationFailed(f"{name} needs a time zone (RFC 3339)", field=name)
    query = AlertQuery(
        statuses=[s.value for s in status] if status else None,
        severities=[s.value for s in severity] if severity else None,
        matchers=parse_filters(filter or [], orch.settings.notifications.matcher_syntax),
        since=since.timestamp() if since else None,
        until=until.timestamp() if until else None,
        after_seq=_cursor_decode(cursor) if cursor else None,
        limit=min(limit, orch.settings.limits.max_page_size),
    )
    page = await orch.store.query(caller.tenant_id, query)
    now = orch.clock.now()
    items = await orch.alert_engine.sealed.reveal(page.items)
    return json_response(
        AlertListView(
            items=[alert_view(r, now) for r in items],
            next_cursor=_cursor_encode(page.next_cursor),
        )
    )


@router.get(
    "/{alert_id}", summary="One alert with its history", responses=response_doc(AlertDetailView)
)
async def get_alert(alert_id: str, orch: Orch, caller: Reader) -> Response:
    found = await orch.store.get(caller.tenant_id, alert_id)
    if found is None:
        raise AlertNotFound(f"alert {alert_id} not found")
    [rec] = await orch.alert_engine.sealed.reveal([found])
    history = await orch.store.history(caller.tenant_id, alert_id)
    return json_response(detail_view(rec, history, orch.clock.now()))


@router.get(
    "/{alert_id}/explain",
    summary="The alert's decision record",
    responses=response_doc(ExplanationView),
)
async def explain_alert(alert_id: str, orch: Orch, caller: Reader) -> Response:
    explanation = await orch.alert_engine.explain(caller.tenant_id, alert_id)
    [explanation.record] = await orch.alert_engine.sealed.reveal([explanation.record])
    if orch.notifications is not None:
        notified = await orch.notifications.decisions(caller.tenant_id, alert_id)
        explanation.decisions = sorted([*explanation.decisions, *notified], key=lambda d: d.at)
    return json_response(explanation_view(explanation))


def actor_of(caller: Caller, named: str) -> str:
    """Who acts: the authenticated subject; a name it gives is kept beside it (a bot acting
    for a person), never instead of it."""
    subject = caller.principal.subject
    if caller.principal.kind == CredentialKind.ANONYMOUS:
        return named
    return subject if named in ("anonymous", subject) else f"{subject} ({named})"


async def _act(
    orch: EngineOrchestrator, caller: Caller, alert_id: str, action: str, body: ActionBody | None
) -> Response:
    body = body or ActionBody()
    sm = orch.state_manager
    fn = {"ack": sm.acknowledge, "unack": sm.unacknowledge, "resolve": sm.resolve}[action]
    changed = await fn(caller.tenant_id, alert_id, actor_of(caller, body.actor), body.comment)
    [rec] = await orch.alert_engine.sealed.reveal([changed])
    return json_response(alert_view(rec, orch.clock.now()))


@router.post("/{alert_id}/ack", summary="Acknowledge", responses=response_doc(AlertView))
async def ack(alert_id: str, orch: Orch, caller: Acker, body: ActionBody | None = None) -> Response:
    return await _act(orch, caller, alert_id, "ack", body)


@router.post(
    "/{alert_id}/unack", summary="Withdraw an acknowledgement", responses=response_doc(AlertView)
)
async def unack(
    alert_id: str, orch: Orch, caller: Acker, body: ActionBody | None = None
) -> Response:
    return await _act(orch, caller, alert_id, "unack", body)


@router.post("/{alert_id}/resolve", summary="Resolve by hand", responses=response_doc(AlertView))
async def resolve(
    alert_id: str, orch: Orch, caller: Acker, body: ActionBody | None = None
) -> Response:
    return await _act(orch, caller, alert_id, "resolve", body)
