"""Alertmanager API v2 shapes and codes, health, readiness, metrics and OpenAPI."""

from __future__ import annotations

import httpx
import pytest

from core_alerts.domain.clock import FixedClock
from core_alerts.domain.fingerprint import fingerprint_labels

pytestmark = pytest.mark.asyncio

GETTABLE_FIELDS = {
    "labels", "annotations", "startsAt", "endsAt", "updatedAt", "fingerprint", "receivers",
    "status", "generatorURL",
}  # fmt: skip


async def test_post_and_get_alerts_with_alertmanager_fields(api: httpx.AsyncClient) -> None:
    body = [
        {"labels": {"alertname": "DiskFull", "team": "db"}, "annotations": {"summary": "disk"},
         "startsAt": "2027-01-15T08:00:00Z", "generatorURL": "http://prom/graph"},
        {"labels": {"alertname": "Other", "team": "web"}},
    ]  # fmt: skip
    r = await api.post("/api/v2/alerts", json=body)
    assert r.status_code == 200 and r.content == b""
    alerts = (await api.get("/api/v2/alerts")).json()
    assert len(alerts) == 2
    disk = next(a for a in alerts if a["labels"]["alertname"] == "DiskFull")
    assert set(disk) == GETTABLE_FIELDS
    assert disk["fingerprint"] == fingerprint_labels({"alertname": "DiskFull", "team": "db"})
    assert disk["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": []}
    assert disk["startsAt"] == "2027-01-15T08:00:00.000Z"
    filtered = (await api.get("/api/v2/alerts", params={"filter": 'team="db"'})).json()
    assert [a["labels"]["alertname"] for a in filtered] == ["DiskFull"]


async def test_resolved_and_expired_alerts_leave_the_v2_list(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await api.post(
        "/api/v2/alerts", json=[{"labels": {"alertname": "A"}}, {"labels": {"alertname": "B"}}]
    )
    start = "2026-01-01T00:00:00Z"
    resolved = [{"labels": {"alertname": "A"}, "startsAt": start, "endsAt": "2027-01-15T07:00:00Z"}]
    await api.post("/api/v2/alerts", json=resolved)
    names = [a["labels"]["alertname"] for a in (await api.get("/api/v2/alerts")).json()]
    assert names == ["B"]
    clock.advance(301)
    assert (await api.get("/api/v2/alerts")).json() == []


async def test_groups_and_status(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v2/alerts/groups")).json() == []
    await api.post("/api/v2/alerts", json=[{"labels": {"alertname": "A"}}])
    (group,) = (await api.get("/api/v2/alerts/groups")).json()
    assert group["receiver"] == {"name": "default"} and len(group["alerts"]) == 1
    status = (await api.get("/api/v2/status")).json()
    assert status["cluster"]["status"] == "disabled"
    assert {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"} <= set(
        status["versionInfo"]
    )
    assert "route:" in status["config"]["original"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'[{"labels": {}}]', 400),
        (b'[{"labels": {"bad-name": "x"}}]', 400),
        (b'{"labels": {"a": "b"}}', 400),
        (
            b'[{"labels": {"a": "b"}, "startsAt": "2027-01-02T00:00:00Z", "endsAt": "2027-01-01T00:00:00Z"}]',
            400,
        ),
        (b'[{"labels": {"a": "b"}', 400),
    ],
)
async def test_invalid_v2_posts_are_400(api: httpx.AsyncClient, body: bytes, status: int) -> None:
    r = await api.post("/api/v2/alerts", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"  # Alertmanager's error: a string
    assert isinstance(r.json(), str) and r.json()
    assert (await api.get("/api/v2/alerts")).json() == []


async def test_health_readiness_metrics(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    assert (await api.get("/readyz")).json()["status"] == "ready"
    await api.post(
        "/api/v1/alerts",
        json={"title": "T", "severity": "critical"},
        headers={"X-Tenant-ID": "acme"},
    )
    text = (await api.get("/metrics")).text
    assert (
        'alerts_processed_total{severity="critical",status="firing",tenant_id="acme"} 1.0' in text
    )
    assert (
        'alert_processing_duration_seconds_count{severity="critical",tenant_id="acme"} 1.0' in text
    )
    for name in (
        "alert_request_batch_size",
        "alert_commit_duration_seconds",
        "alerts_pending_commit",
    ):
        assert name in text


async def test_openapi_documents_every_route_and_its_bodies(api: httpx.AsyncClient) -> None:
    doc = (await api.get("/openapi.json")).json()
    paths = doc["paths"]
    for path in (
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}/explain",
        "/api/v2/alerts",
        "/api/v2/status",
    ):
        assert path in paths
    post_v2 = paths["/api/v2/alerts"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert post_v2["type"] == "array"
    assert "PostableAlert" in doc["components"]["schemas"]
    assert "AlertListView" in doc["components"]["schemas"]
