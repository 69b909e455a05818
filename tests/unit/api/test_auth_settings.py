"""What the security settings change: authentication off, and /metrics behind a scope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import ROLE_SCOPES, Role


@pytest.fixture
def api_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"security": getattr(request, "param", {})}


@pytest.mark.parametrize("api_config", [{"auth_enabled": False}], indirect=True)
async def test_with_authentication_off_anyone_acts_in_the_tenant_it_names(
    api: httpx.AsyncClient,
) -> None:
    async with httpx.AsyncClient(transport=api._transport, base_url="http://test") as anyone:
        sent = await anyone.post(
            "/api/v1/alerts", json={"title": "t"}, headers={"X-Tenant-ID": "anywhere"}
        )
        assert sent.status_code == 200
        alert_id = sent.json()["results"][0]["alert_id"]
        acked = await anyone.post(
            f"/api/v1/alerts/{alert_id}/ack", json={"actor": "ann"},
            headers={"X-Tenant-ID": "anywhere"},
        )  # fmt: skip
        assert acked.json()["acked_by"] == "ann"
        elsewhere = await anyone.get(f"/api/v1/alerts/{alert_id}")
        assert elsewhere.status_code == 404  # the default tenant does not hold it


@pytest.mark.parametrize("api_config", [{"metrics_public": False}], indirect=True)
async def test_private_metrics_need_the_metrics_scope(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    security = api_orchestrator.security_manager
    viewer = security.issue_token("default", "v", ROLE_SCOPES[Role.VIEWER])[0]
    async with httpx.AsyncClient(transport=api._transport, base_url="http://test") as raw:
        assert (await raw.get("/metrics")).status_code == 401
        denied = await raw.get("/metrics", headers={"Authorization": f"Bearer {viewer}"})
        assert denied.status_code == 403
    allowed = await api.get("/metrics")
    assert allowed.status_code == 200 and b"alerts_processed_total" in allowed.content


async def test_metrics_are_public_by_default(api: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(transport=api._transport, base_url="http://test") as raw:
        assert (await raw.get("/metrics")).status_code == 200
