"""Alertmanager API v2: what Prometheus, amtool and Grafana speak, with its field names."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import msgspec
import re2
from fastapi import APIRouter, Depends, Query, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from core_alerts import __version__
from core_alerts.api.body import read_json_body
from core_alerts.api.deps import Caller, orchestrator, require
from core_alerts.api.encoding import body_doc, json_response, response_doc
from core_alerts.api.problems import CLIENT_CLOSED, count_rejection, error_response
from core_alerts.api.routes.alerts import parse_filters
from core_alerts.api.views import iso
from core_alerts.app import EngineOrchestrator
from core_alerts.domain import CoreAlertsError, MalformedInput, ValidationFailed
from core_alerts.domain.access import Scope
from core_alerts.domain.record import AlertRecord
from core_alerts.ingest import PostableAlert
from core_alerts.routing import RoutingTree, group_key
from core_alerts.store import AlertQuery

router = APIRouter(prefix="/api/v2", tags=["alertmanager-v2"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
Reader = Annotated[Caller, require(Scope.ALERTS_READ)]
Writer = Annotated[Caller, require(Scope.ALERTS_WRITE)]
DEFAULT_RECEIVER = "default"
_STARTED = time.time()
_PAGE = 1000


class Receiver(msgspec.Struct):
    name: str


class AlertStatusV2(msgspec.Struct):
    state: str
    silencedBy: list[str]
    inhibitedBy: list[str]


class GettableAlert(msgspec.Struct):
    labels: dict[str, str]
    annotations: dict[str, str]
    startsAt: str
    endsAt: str
    updatedAt: str
    fingerprint: str
    receivers: list[Receiver]
    status: AlertStatusV2
    generatorURL: str = ""


class AlertGroup(msgspec.Struct):
    labels: dict[str, str]
    receiver: Receiver
    alerts: list[GettableAlert]


_DEFAULT_CONFIG = (
    f"route:\n  receiver: {DEFAULT_RECEIVER}\nreceivers:\n- name: {DEFAULT_RECEIVER}\n"
)
_FAR_FUTURE = 253402300799.0  # 9999-12-31T23:59:59Z: "no end" as Alertmanager shows it


def gettable(rec: AlertRecord, receivers: list[str] | None = None) -> GettableAlert:
    state = "suppressed" if rec.status == "suppressed" else "active"
    return GettableAlert(  # keys sorted, as Alertmanager's JSON encoder writes them
        labels=dict(sorted(rec.labels.items())),
        annotations=dict(sorted(rec.annotations.items())),
        startsAt=iso(rec.starts_at) or "",
        endsAt=iso(rec.ends_at if rec.ends_at is not None else _FAR_FUTURE) or "",
        updatedAt=iso(rec.updated_at) or "",
        fingerprint=rec.fingerprint,
        receivers=[Receiver(r) for r in receivers or [DEFAULT_RECEIVER]],
        status=AlertStatusV2(state=state, silencedBy=[], inhibitedBy=[]),
        generatorURL=rec.generator_url,
    )


@router.post(
    "/alerts",
    summary="Post alerts (Alertmanager postableAlerts)",
    openapi_extra=body_doc(list[PostableAlert], "Alerts, as Prometheus sends them."),
    responses={200: {"description": "Alerts accepted and committed."}},
)
async def post_alerts(request: Request, orch: Orch, caller: Writer) -> Response:
    return await ingest_v2(request, orch, caller)


async def ingest_v2(request: Request, orch: EngineOrchestrator, caller: Caller) -> Response:
    """The body of `POST /api/v2/alerts`; `api.fastpath` calls it too."""
    try:
        body = await read_json_body(request, orch.settings.limits.max_body_bytes)
        await orch.alert_engine.ingest_payload("alertmanager", body, tenant_id=caller.tenant_id)
    except ValidationFailed as exc:
        # Alertmanager answers 400 for any invalid alert; size limits stay 413.
        count_rejection(request, exc)
        status = 413 if exc.code == "limit_exceeded" else 400
        return error_response(exc, status=status, alertmanager=True)
    except CoreAlertsError as exc:
        count_rejection(request, exc)
        return error_response(exc, alertmanager=True)
    except ClientDisconnect:  # gone before its body arrived (api.fastpath calls this too)
        return Response(status_code=CLIENT_CLOSED)
    return Response(status_code=200)


async def _active(orch: EngineOrchestrator, tenant: str, filters: list[str]) -> list[AlertRecord]:
    try:
        matchers = parse_filters(filters, orch.settings.notifications.matcher_syntax)
    except ValidationFailed as exc:
        raise MalformedInput(exc.message, field="filter") from None  # Alertmanager: 400
    out: list[AlertRecord] = []
    cursor = None
    while True:
        page = await orch.store.query(
            tenant,
            AlertQuery(
                statuses=["firing", "acknowledged", "suppressed"],
                matchers=matchers,
                after_seq=cursor,
                limit=_PAGE,
            ),
        )
        out.extend(await orch.alert_engine.sealed.reveal(page.items))
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def _wanted(rec: AlertRecord, active: bool, silenced: bool) -> bool:
    return silenced if rec.status == "suppressed" else active


@router.get("/alerts", summary="List active alerts", responses=response_doc(list[GettableAlert]))
async def get_alerts(
    orch: Orch,
    caller: Reader,
    filter: Annotated[list[str] | None, Query()] = None,
    active: bool = True,
    silenced: bool = True,
    inhibited: bool = True,
    unprocessed: bool = True,
    receiver: str | None = None,
) -> Response:
    records = await _active(orch, caller.tenant_id, filter or [])
    tree = _tree(orch, caller.tenant_id)
    wanted = _receiver_filter(receiver)
    out = []
    for rec in records:
        if not _wanted(rec, active, silenced):
            continue
        names = list(dict.fromkeys(tree.receivers(rec.labels))) if tree else []
        if wanted(names):
            out.append(gettable(rec, names))
    return json_response(out)


def _tree(orch: EngineOrchestrator, tenant_id: str) -> RoutingTree | None:
    routing = orch.notifications.routing(tenant_id) if orch.notifications else None
    return None if routing is None else routing.tree


def _receiver_filter(pattern: str | None) -> Callable[[list[str]], bool]:
    """Alertmanager's `receiver` filter: a regex, fully anchored, matched by any receiver."""
    if pattern is None:
        return lambda _names: True
    try:
        regex = re2.compile(f"^(?:{pattern})$")
    except re2.error as exc:
        raise MalformedInput(f"invalid receiver regex: {exc}", field="receiver") from None
    return lambda names: any(regex.match(n) for n in names)


@router.get(
    "/alerts/groups",
    summary="Active alerts by aggregation group",
    responses=response_doc(list[AlertGroup]),
)
async def get_groups(
    orch: Orch,
    caller: Reader,
    filter: Annotated[list[str] | None, Query()] = None,
    active: bool = True,
    silenced: bool = True,
    inhibited: bool = True,
    receiver: str | None = None,
) -> Response:
    records = [
        r
        for r in await _active(orch, caller.tenant_id, filter or [])
        if _wanted(r, active, silenced)
    ]
    tree = _tree(orch, caller.tenant_id)
    wanted = _receiver_filter(receiver)
    groups: dict[tuple[str, str], AlertGroup] = {}
    for rec in records:
        matches = tree.route(rec.labels) if tree else []
        names = list(dict.fromkeys(m.receiver for m in matches))
        for m in matches:
            if not wanted([m.receiver]):
                continue
            key = (group_key(m.route_key, m.group_labels), m.receiver)
            group = groups.get(key) or groups.setdefault(key, AlertGroup(
                labels=dict(m.group_labels), receiver=Receiver(m.receiver), alerts=[]
            ))  # fmt: skip
            group.alerts.append(gettable(rec, names))
    if not groups and records and orch.notifications is None:
        alerts = [gettable(r) for r in records]
        return json_response(
            [AlertGroup(labels={}, receiver=Receiver(DEFAULT_RECEIVER), alerts=alerts)]
        )
    return json_response(list(groups.values()))


@router.get("/receivers", summary="The tenant's receivers", responses=response_doc(list[Receiver]))
async def get_receivers(orch: Orch, caller: Reader) -> Response:
    routing = orch.notifications.routing(caller.tenant_id) if orch.notifications else None
    if routing is None:
        return json_response([Receiver(DEFAULT_RECEIVER)])
    return json_response([Receiver(r.name) for r in routing.config.receivers])


def _shown_config(orch: EngineOrchestrator, tenant_id: str) -> str:
    shown = orch.notifications.shown_config(tenant_id) if orch.notifications else None
    return _DEFAULT_CONFIG if shown is None else shown[0]


@router.get("/status", summary="Service status, as Alertmanager reports it")
async def get_status(orch: Orch, caller: Reader) -> Response:
    return json_response(
        {
            "cluster": {"status": "disabled", "peers": [], "name": ""},
            "versionInfo": {
                "branch": "main",
                "buildDate": "",
                "buildUser": "core-alerts",
                "goVersion": "none",
                "revision": "",
                "version": __version__,
            },
            "config": {"original": _shown_config(orch, caller.tenant_id)},
            "uptime": iso(_STARTED),
        }
    )
