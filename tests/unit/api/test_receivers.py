"""Receivers for other senders over the real app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio

ROUTING_KEY = "R" * 32


@pytest.fixture
def api_config() -> dict[str, Any]:
    mapping = {"items": "events", "title": "msg", "severity": "level", "labels": "tags",
               "status": "state", "dedup_key": "id", "extra_labels": {"host.name": "instance"}}  # fmt: skip
    return {"receivers": {"generic": {"zabbix": mapping}}}


def pd_event(action: str, dedup_key: str | None = None, **payload: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"routing_key": ROUTING_KEY, "event_action": action}
    if dedup_key:
        event["dedup_key"] = dedup_key
    if payload:
        event["payload"] = payload
    return event


async def test_pagerduty_trigger_acknowledge_resolve(api: httpx.AsyncClient) -> None:
    url = "/api/v1/receivers/pagerduty/v2/enqueue"
    trigger = pd_event("trigger", summary="DB down", source="db-1", severity="critical")
    r = await api.post(url, json=trigger)
    assert r.status_code == 202
    key = r.json()["dedup_key"]
    assert r.json()["status"] == "success" and len(key) == 32
    assert (await api.post(url, json=pd_event("acknowledge", key))).status_code == 202
    (alert,) = (await api.get("/api/v1/alerts")).json()["items"]
    assert alert["status"] == "acknowledged" and alert["dedup_key"] == key
    assert alert["severity"] == "critical" and alert["title"] == "DB down"
    assert (await api.post(url, json=pd_event("resolve", key))).status_code == 202
    (alert,) = (await api.get("/api/v1/alerts")).json()["items"]
    assert alert["status"] == "resolved"


async def test_pagerduty_errors_use_its_shape_and_write_nothing(api: httpx.AsyncClient) -> None:
    url = "/api/v1/receivers/pagerduty/v2/enqueue"
    bad = pd_event("trigger", summary="x", source="y", severity="fatal")
    r = await api.post(url, json=bad)
    assert r.status_code == 400
    assert r.json()["status"] == "invalid event" and "payload.severity" in r.json()["errors"][0]
    r = await api.post(url, json=pd_event("resolve"))
    assert r.status_code == 400 and "dedup_key" in r.json()["errors"][0]
    assert (await api.get("/api/v1/alerts")).json()["items"] == []


async def test_alertmanager_webhook_forwarding(api: httpx.AsyncClient) -> None:
    alert = {"status": "firing", "labels": {"alertname": "Up", "job": "node"}, "annotations": {},
             "startsAt": "2027-01-15T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}  # fmt: skip
    body = {"version": "4", "status": "firing", "receiver": "core", "alerts": [alert]}
    r = await api.post("/api/v1/receivers/alertmanager", json=body)
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "created"
    resolved = {**alert, "status": "resolved", "endsAt": "2027-01-15T08:05:00Z"}
    r = await api.post("/api/v1/receivers/alertmanager", json={**body, "alerts": [resolved]})
    assert r.json()["results"][0]["outcome"] == "resolved"


async def test_grafana_unified_payload(api: httpx.AsyncClient) -> None:
    alert = {"status": "firing", "labels": {"alertname": "CPU", "grafana_folder": "infra"},
             "annotations": {"summary": "cpu high"}, "startsAt": "2027-01-15T08:00:00Z",
             "endsAt": "0001-01-01T00:00:00Z", "dashboardURL": "http://grafana/d/1"}  # fmt: skip
    body = {
        "receiver": "core",
        "status": "firing",
        "orgId": 1,
        "alerts": [alert],
        "title": "[FIRING:1] CPU",
    }
    r = await api.post("/api/v1/receivers/grafana", json=body)
    assert r.status_code == 200
    (stored,) = (await api.get("/api/v1/alerts")).json()["items"]
    assert stored["title"] == "cpu high" and stored["source"] == "grafana"


async def test_generic_receiver_uses_its_mapping(api: httpx.AsyncClient) -> None:
    body = {"events": [{"msg": "Disk full", "level": "warning", "tags": {"team": "db"}, "state": "PROBLEM",
                        "id": "evt-1", "host": {"name": "db-1"}}]}  # fmt: skip
    r = await api.post("/api/v1/receivers/generic/zabbix", json=body)
    assert r.status_code == 200, r.text
    (stored,) = (await api.get("/api/v1/alerts")).json()["items"]
    assert stored["labels"] == {"team": "db", "instance": "db-1"}
    assert stored["severity"] == "medium" and stored["dedup_key"] == "evt-1"
    body["events"][0]["state"] = "ok"
    r = await api.post("/api/v1/receivers/generic/zabbix", json=body)
    assert r.json()["results"][0]["outcome"] == "resolved"
    assert (await api.post("/api/v1/receivers/generic/nagios", json=body)).status_code == 404
