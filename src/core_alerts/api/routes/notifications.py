"""Routing config, routing test, channel schemas, notification history and dead letters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from core_alerts.api.body import read_struct
from core_alerts.api.deps import Caller, orchestrator, require
from core_alerts.api.encoding import body_doc, json_response, response_doc
from core_alerts.app import EngineOrchestrator, Notifications
from core_alerts.domain.access import Scope
from core_alerts.domain.errors import LimitExceeded, MalformedInput, NotFound, ValidationFailed
from core_alerts.notify import channel_specs
from core_alerts.routing import group_key
from core_alerts.store import OutboxEntry, OutboxPage

router = APIRouter(tags=["notifications"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
Reader = Annotated[Caller, require(Scope.CONFIG_READ)]
Writer = Annotated[Caller, require(Scope.CONFIG_WRITE)]
AlertReader = Annotated[Caller, require(Scope.ALERTS_READ)]
_MAX_CONFIG_BYTES = 1 << 20
_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")


class ConfigView(msgspec.Struct, kw_only=True):
    config: str
    """The alertmanager.yml in force, secrets shown as `<secret>`."""
    source: str
    """"api" (saved through PUT /api/v1/config) or "file" (notifications.config_file)."""
    version: int


class ConfigBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    config: str


class RoutingTestBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    labels: dict[str, str]


class RouteView(msgspec.Struct, kw_only=True):
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    group_by: list[str]
    group_wait: float
    group_interval: float
    repeat_interval: float
    mute_time_intervals: list[str]
    active_time_intervals: list[str]
    route_key: str


class RoutingTestResult(msgspec.Struct, kw_only=True):
    receivers: list[str]
    """Receivers in routing-tree order, as `amtool config routes test` prints them."""
    routes: list[RouteView]


class ReplayBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ids: list[str] | None = None
    all: bool = False


class ChannelView(msgspec.Struct, kw_only=True):
    config_key: str
    integration: str
    description: str
    secrets: list[str]
    schema: dict[str, Any]


def notifications_of(orch: EngineOrchestrator) -> Notifications:
    if orch.notifications is None:
        raise NotFound("notifications are off (notifications.enabled: false)")
    return orch.notifications


@router.get(
    "/api/v1/config",
    summary="The tenant's alertmanager.yml in force (secrets hidden)",
    responses=response_doc(ConfigView),
)
async def get_config(orch: Orch, caller: Reader) -> Response:
    shown = notifications_of(orch).shown_config(caller.tenant_id)
    if shown is None:
        raise NotFound("no routing configuration is loaded for this tenant")
    text, routing = shown
    return json_response(ConfigView(config=text, source=routing.source, version=routing.version))


@router.put(
    "/api/v1/config",
    summary='Replace the tenant\'s alertmanager.yml (YAML body, or JSON {"config": text})',
    openapi_extra=body_doc(ConfigBody, "The whole configuration; `<secret>` keeps a saved value."),
    responses=response_doc(ConfigView),
)
async def put_config(request: Request, orch: Orch, caller: Writer) -> Response:
    notifications = notifications_of(orch)
    text = await _config_text(request)
    saved = await notifications.save(caller.tenant_id, text, caller.principal.subject)
    shown = notifications.shown_config(caller.tenant_id)
    assert shown is not None
    return json_response(ConfigView(config=shown[0], source="api", version=saved.version))


async def _config_text(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in _YAML_TYPES:
        body = await request.body()
        if len(body) > _MAX_CONFIG_BYTES:
            raise LimitExceeded(f"the configuration exceeds {_MAX_CONFIG_BYTES} bytes")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedInput("the configuration is not UTF-8 text") from None
    return (await read_struct(request, ConfigBody, _MAX_CONFIG_BYTES)).config


@router.post(
    "/-/reload",
    summary="Re-read the config file and every saved config (as SIGHUP does)",
)
async def reload(orch: Orch, caller: Writer) -> Response:
    errors = await notifications_of(orch).reload()
    if errors:  # the old config stays in force
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ValidationFailed(f"failed to reload config: {detail}")
    return json_response({"status": "reloaded"})


@router.post(
    "/api/v1/routing/test",
    summary="Which receivers and groups a label set reaches (amtool config routes test)",
    openapi_extra=body_doc(RoutingTestBody, "The alert's labels."),
    responses=response_doc(RoutingTestResult),
)
async def routing_test(request: Request, orch: Orch, caller: Reader) -> Response:
    body = await read_struct(request, RoutingTestBody)
    matches = notifications_of(orch).route(caller.tenant_id, body.labels)
    routes = [
        RouteView(
            receiver=m.receiver,
            group_key=group_key(m.route_key, m.group_labels),
            group_labels=dict(m.group_labels),
            group_by=["..."] if m.group_by_all else list(m.group_by),
            group_wait=m.group_wait,
            group_interval=m.group_interval,
            repeat_interval=m.repeat_interval,
            mute_time_intervals=list(m.mute_time_intervals),
            active_time_intervals=list(m.active_time_intervals),
            route_key=m.route_key,
        )
        for m in matches
    ]
    return json_response(RoutingTestResult(receivers=[m.receiver for m in matches], routes=routes))


@router.get(
    "/api/v1/channels",
    summary="Every channel type with the JSON schema of its config",
    responses=response_doc(list[ChannelView]),
)
async def list_channels(caller: Reader) -> Response:
    return json_response(
        [
            ChannelView(
                config_key=spec.config_key,
                integration=spec.integration,
                description=spec.description,
                secrets=sorted(spec.config_type.SECRETS),
                schema=msgspec.json.schema(spec.config_type),
            )
            for spec in channel_specs().values()
        ]
    )


@router.get(
    "/api/v1/notifications",
    summary="Notifications of the tenant; state=dead lists the dead letters",
    responses=response_doc(OutboxPage),
)
async def list_notifications(
    orch: Orch,
    caller: Reader,
    state: Literal["pending", "delivered", "dead"] | None = None,
    after: Annotated[str | None, Query(max_length=64, description="Cursor: next_after.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    page = await notifications_of(orch).store.list_outbox(
        caller.tenant_id, state=state, after=after, limit=limit
    )
    return json_response(page)


@router.get(
    "/api/v1/notifications/{notification_id}",
    summary="One notification and how its delivery went",
    responses=response_doc(OutboxEntry),
)
async def get_notification(orch: Orch, caller: Reader, notification_id: str) -> Response:
    entry = await notifications_of(orch).store.get_outbox(caller.tenant_id, notification_id)
    if entry is None:
        raise NotFound(f"notification {notification_id} not found")
    return json_response(entry)


@router.post(
    "/api/v1/notifications/replay",
    summary='Send dead letters again: the given ids, or all with {"all": true}',
    openapi_extra=body_doc(ReplayBody, "Which dead letters to replay."),
)
async def replay(request: Request, orch: Orch, caller: Writer) -> Response:
    body = await read_struct(request, ReplayBody)
    if body.all == (body.ids is not None):
        raise ValidationFailed('give either "ids" or "all": true', field="ids")
    notifications = notifications_of(orch)
    moved = await notifications.store.replay(
        caller.tenant_id, None if body.all else body.ids, orch.clock.now()
    )
    notifications.delivery.wake()
    return json_response({"replayed": moved})


@router.get(
    "/api/v1/alerts/{alert_id}/notifications",
    summary="Every notification that carried this alert",
    responses=response_doc(list[OutboxEntry]),
)
async def alert_notifications(orch: Orch, caller: AlertReader, alert_id: str) -> Response:
    if await orch.store.get(caller.tenant_id, alert_id) is None:
        raise NotFound(f"alert {alert_id} not found")
    entries = await notifications_of(orch).store.for_alert(caller.tenant_id, alert_id)
    return json_response(entries)
