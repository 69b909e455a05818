"""An in-process API client over the real app, a temporary SQLite file and a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from core_alerts.api import create_app
from core_alerts.app import EngineOrchestrator
from core_alerts.config import load_settings
from core_alerts.domain.clock import FixedClock


@pytest.fixture
def api_config() -> dict[str, Any]:
    """Extra configuration for the app under test; override in a test module."""
    return {}


@pytest.fixture
def api_orchestrator(
    tmp_path: Path, clock: FixedClock, api_config: dict[str, Any]
) -> EngineOrchestrator:
    settings = load_settings(
        {
            "database": {"sqlite_path": str(tmp_path / "api.db")},
            "limits": {"max_alerts_per_request": 50},
            **api_config,
        },
        environ={},
    )
    return EngineOrchestrator(settings=settings, clock=clock)


TENANTS = ("acme", "alpha", "beta", "gamma")
"""Tenants that exist besides `default`, for tests that act in several."""


@pytest.fixture
async def api(api_orchestrator: EngineOrchestrator) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding the platform-admin token (every scope, any tenant)."""
    app = create_app(api_orchestrator)
    async with LifespanManager(app) as manager:
        security = api_orchestrator.security_manager
        for tenant in TENANTS:
            await security.create_tenant(tenant, tenant.title())
        transport = httpx.ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {security.admin_token()}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client
