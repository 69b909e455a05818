"""Every write, every refusal, and every read by an administrator go to the audit trail.

A pure ASGI middleware: it learns the caller from what `deps.authorize` left in the request
state and the outcome from the response status; the SecurityManager buffers the entry.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core_alerts.domain.access import Scope as Permission
from core_alerts.security import CredentialKind, Principal

_UNAUDITED = frozenset({"/healthz", "/readyz", "/metrics"})


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNAUDITED:
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            _record(scope, status)


def _record(scope: Scope, status: int) -> None:
    state: dict[str, Any] = scope.get("state") or {}
    principal: Principal | None = state.get("principal")
    if principal is None or principal.kind == CredentialKind.ANONYMOUS:
        return  # nobody to name (401s are not tenant events; login audits itself)
    method = scope["method"]
    admin_read = method == "GET" and principal.has(Permission.KEYS_WRITE)
    if method in ("GET", "HEAD", "OPTIONS") and not admin_read and status not in (403, 404):
        return
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


def action_of(method: str, template: str) -> str:
    """`POST /api/v1/alerts/{alert_id}/ack` -> `api.v1.alerts.ack.post`: dotted, so a prefix
    filter (`api.v1.alerts`) selects a resource."""
    words = [w.lower() for w in template.split("/") if w and not w.startswith("{")]
    cleaned = [re.sub(r"[^a-z0-9_-]", "-", w) for w in words] or ["root"]
    return ".".join([*cleaned, method.lower()])
