"""Request-scoped dependencies: the orchestrator and the caller's tenant."""

from __future__ import annotations

import re

from fastapi import Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.errors import ValidationFailed

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_TENANT = "default"


async def orchestrator(request: Request) -> EngineOrchestrator:
    orch: EngineOrchestrator = request.app.state.orchestrator
    return orch


async def tenant_id(
    x_tenant_id: str | None = Header(
        None, description="Tenant to act on; `default` when absent.", max_length=64
    ),
) -> str:
    if x_tenant_id is None:
        return DEFAULT_TENANT
    if not _TENANT.match(x_tenant_id):
        raise ValidationFailed(
            "X-Tenant-ID must be 1-64 characters: letters, digits, '_', '.', '-'",
            field="X-Tenant-ID",
        )
    return x_tenant_id


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not define (a typo must not pass silently)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ValidationFailed(
            f"unknown query parameter(s): {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}",
            field=unknown[0],
        )


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
