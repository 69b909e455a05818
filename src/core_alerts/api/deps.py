"""Request-scoped dependencies: the orchestrator and the caller's tenant."""

from __future__ import annotations

import re

from fastapi import Header, Request

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.errors import ValidationFailed

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_TENANT = "default"


def orchestrator(request: Request) -> EngineOrchestrator:
    orch: EngineOrchestrator = request.app.state.orchestrator
    return orch


def tenant_id(
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
