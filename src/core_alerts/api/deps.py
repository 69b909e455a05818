"""Request-scoped dependencies: the orchestrator, and the authenticated caller with its tenant."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from fastapi import Depends, Header, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import Scope
from core_alerts.domain.errors import Forbidden, NotFound, ValidationFailed
from core_alerts.security import DEFAULT_TENANT, Principal, SecurityManager

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


async def orchestrator(request: Request) -> EngineOrchestrator:
    orch: EngineOrchestrator = request.app.state.orchestrator
    return orch


class Caller(msgspec.Struct, frozen=True):
    """The authenticated caller and the tenant the request acts in."""

    principal: Principal
    tenant_id: str


CREDENTIALS = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="credentials",
    description="`Bearer <token or API key>`, or `Basic` with an API key as the password.",
)


async def authorize(
    request: Request, scope: Scope, authorization: str | None, x_tenant_id: str | None
) -> Caller:
    if x_tenant_id is not None and not _TENANT.match(x_tenant_id):
        raise ValidationFailed(
            "X-Tenant-ID must be 1-64 characters: letters, digits, '_', '.', '-'",
            field="X-Tenant-ID",
        )
    security: SecurityManager = request.app.state.orchestrator.security_manager
    if not security.enabled:
        tenant = x_tenant_id or DEFAULT_TENANT
        anonymous = security.anonymous(tenant)
        await security.limit(anonymous, tenant)
        return Caller(anonymous, tenant)
    principal = await security.authenticate(authorization)
    request.state.principal = principal
    tenant = principal.tenant_id
    if x_tenant_id is not None and x_tenant_id != tenant:
        other = await security.tenant(x_tenant_id) if principal.platform_admin else None
        if other is None or other.status != "active":
            raise NotFound(f"tenant {x_tenant_id} not found")
        tenant = x_tenant_id
    request.state.tenant_id = tenant
    if not principal.has(scope):
        raise Forbidden(f"this needs the {scope.value} scope", scope=scope.value)
    await security.limit(principal, tenant)
    return Caller(principal, tenant)


def require(scope: Scope) -> Any:
    """The dependency of a route that needs `scope`: authenticates, picks the tenant.

    Another tenant named in X-Tenant-ID answers 404 (as if it did not exist), unless the
    caller is a platform admin; a missing scope answers 403 naming it.
    """

    async def caller(
        request: Request,
        authorization: str | None = Security(CREDENTIALS),
        x_tenant_id: str | None = Header(
            None, description="Tenant to act on; the caller's own when absent.", max_length=64
        ),
    ) -> Caller:
        return await authorize(request, scope, authorization, x_tenant_id)

    caller.required_scope = scope  # type: ignore[attr-defined]  # read by the route audit test
    return Depends(caller)


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
