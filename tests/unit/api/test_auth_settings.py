"""What the security settings change: authentication off, and /metrics behind a scope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import ROLE_SCOPES, Role
from core_alerts.domain.clock import FixedClock


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


@pytest.mark.parametrize(
    "api_config",
    [{"tenant_rate_limit": 1, "tenant_burst": 2, "credential_rate_limit": 0}],
    indirect=True,
)
async def test_a_tenant_over_its_rate_gets_429_and_the_others_do_not(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    acme, beta = {"X-Tenant-ID": "acme"}, {"X-Tenant-ID": "beta"}
    body = [{"labels": {"alertname": "x"}}]
    assert [(await api.post("/api/v2/alerts", json=body, headers=acme)).status_code
            for _ in range(2)] == [200, 200]  # fmt: skip
    over = await api.post("/api/v2/alerts", json=body, headers=acme)
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    assert "tenant acme" in over.json()  # Alertmanager's error shape on /api/v2
    assert (await api.get("/api/v1/alerts", headers=acme)).status_code == 429
    assert (await api.get("/api/v1/alerts", headers=beta)).status_code == 200
    clock.advance(1)
    assert (await api.get("/api/v1/alerts", headers=acme)).status_code == 200


@pytest.mark.parametrize(
    "api_config",
    [{"credential_rate_limit": 1, "credential_burst": 1, "tenant_rate_limit": 0}],
    indirect=True,
)
async def test_a_credential_over_its_rate_gets_429_and_other_credentials_do_not(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator
) -> None:
    security = api_orchestrator.security_manager
    first, second = (
        {
            "Authorization": f"Bearer {security.issue_token('default', n, ROLE_SCOPES[Role.VIEWER])[0]}"
        }
        for n in ("one", "two")
    )
    async with httpx.AsyncClient(transport=api._transport, base_url="http://test") as raw:
        assert (await raw.get("/api/v1/alerts", headers=first)).status_code == 200
        limited = await raw.get("/api/v1/alerts", headers=first)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        assert limited.json()["type"] == "urn:core-alerts:problem:rate_limited"
        assert (await raw.get("/api/v1/alerts", headers=second)).status_code == 200
