"""Every write, every refusal, and every read by an administrator go to the audit trail.

A pure ASGI middleware: it learns the caller from what `deps.authorize` left in the request
state and the outcome from the response status. Entries of ingestion requests are buffered
(appended within 0.1 s); every other change (acknowledgements, keys, users, tenants,
erasure) is in the audit chain before its response starts.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core_alerts.domain.access import Scope as Permission
from core_alerts.security import CredentialKind, Principal

_UNAUDITED = frozenset({"/healthz", "/readyz", "/metrics"})
_INGEST = frozenset({"/api/v2/alerts", "/api/v1/alerts"})
_RECEIVERS = "/api/v1/receivers/"
"""Paths whose POSTs are ingestion: their entries may trail the response by 0.1 s."""


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNAUDITED:
            await self.app(scope, receive, send)
            return
        status = 500
        recorded = False
        path = scope["path"]
        ingest = path in _INGEST or path.startswith(_RECEIVERS)
        synchronous = scope["method"] not in ("GET", "HEAD", "OPTIONS") and not (
            scope["method"] == "POST" and ingest
        )

        async def capture(message: Message) -> None:
            nonlocal status, recorded
            if message["type"] == "http.response.start":
                status = message["status"]
                if synchronous and _record(scope, status):
                    recorded = True
                    await _flush(scope)  # in the chain before the caller hears "done"
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if not recorded:
                _record(scope, status)


async def _flush(scope: Scope) -> None:
    trail = scope["app"].state.orchestrator.security_manager.trail
    if trail is not None:
        await trail.flush()


def _record(scope: Scope, status: int) -> bool:
    """Queue the request's entry; False when there is nothing to record."""
    state: dict[str, Any] = scope.get("state") or {}
    principal: Principal | None = state.get("principal")
    if principal is None or principal.kind == CredentialKind.ANONYMOUS:
        return False  # nobody to name (401s are not tenant events; login audits itself)
    method = scope["method"]
    admin_read = method == "GET" and principal.has(Permission.KEYS_WRITE)
    if method in ("GET", "HEAD", "OPTIONS") and not admin_read and status not in (403, 404):
        return False
    route = scope.get("route")
    template = str(getattr(route, "path", None) or scope["path"])
    params = scope.get("path_params") or {}
    outcome = "ok" if status < 400 else "denied" if status in (401, 403, 404) else "error"
    scope["app"].state.orchestrator.security_manager.audit(
        state.get("tenant_id", principal.tenant_id),
        principal.subject,
        action_of(method, template),
        target_type=template.rsplit("/{", 1)[0].rsplit("/", 1)[-1] if params else "",
        target_id=",".join(str(v) for v in params.values()),
        outcome=outcome,
        details={"status": status, "credential": principal.kind.value, "route": template},
    )
    return True


def action_of(method: str, template: str) -> str:
    """`POST /api/v1/alerts/{alert_id}/ack` -> `api.v1.alerts.ack.post`: dotted, so a prefix
    filter (`api.v1.alerts`) selects a resource."""
    # `/-/reload` (Alertmanager's control path) -> `reload.post`.
    words = [w.lower() for w in template.split("/") if w and w != "-" and not w.startswith("{")]
    cleaned = [re.sub(r"[^a-z0-9_-]", "-", w) for w in words] or ["root"]
    return ".".join([*cleaned, method.lower()])
