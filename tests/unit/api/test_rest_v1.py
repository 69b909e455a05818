"""REST v1 over the real app: ingest, list, show, explain, lifecycle, errors."""

from __future__ import annotations

import httpx
import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import Overloaded, StorageUnavailable

pytestmark = pytest.mark.asyncio

CPU = {"title": "High CPU", "severity": "high", "labels": {"alertname": "HighCPU", "host": "a"}}


async def post(api: httpx.AsyncClient, body: object, tenant: str | None = None) -> httpx.Response:
    headers = {"X-Tenant-ID": tenant} if tenant else {}
    return await api.post("/api/v1/alerts", json=body, headers=headers)


async def test_ingest_one_then_dedup(api: httpx.AsyncClient) -> None:
    first = (await post(api, CPU)).json()
    assert first["accepted"] == 1 and first["results"][0]["outcome"] == "created"
    second = (await post(api, [CPU, CPU])).json()
    assert [r["outcome"] for r in second["results"]] == ["deduplicated", "deduplicated"]
    assert second["results"][1]["occurrences"] == 3
    alert_id = first["results"][0]["alert_id"]
    shown = (await api.get(f"/api/v1/alerts/{alert_id}")).json()
    assert (
        shown["occurrences"] == 3 and shown["severity"] == "high" and shown["title"] == "High CPU"
    )
    assert shown["history"][0]["to_status"] == "firing"


async def test_lifecycle_over_http_with_history(api: httpx.AsyncClient, clock: FixedClock) -> None:
    alert_id = (await post(api, CPU)).json()["results"][0]["alert_id"]
    clock.advance(5)
    r = await api.post(f"/api/v1/alerts/{alert_id}/ack", json={"actor": "ann", "comment": "mine"})
    assert (
        r.status_code == 200
        and r.json()["status"] == "acknowledged"
        and r.json()["acked_by"] == "admin (ann)"  # the token's subject, and the name given
    )
    again = await api.post(f"/api/v1/alerts/{alert_id}/ack", json={"actor": "ann"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "allowed from firing" in again.json()["detail"]
    assert (await api.post(f"/api/v1/alerts/{alert_id}/unack")).json()["status"] == "firing"
    r = await api.post(
        f"/api/v1/alerts/{alert_id}/resolve", json={"actor": "bob", "comment": "fixed"}
    )
    assert r.json()["status"] == "resolved"
    history = (await api.get(f"/api/v1/alerts/{alert_id}")).json()["history"]
    assert [(h["to_status"], h["actor"]) for h in history] == [
        ("firing", "source"), ("acknowledged", "admin (ann)"), ("firing", "admin"),
        ("resolved", "admin (bob)"),
    ]  # fmt: skip
    assert history[-1]["comment"] == "fixed"
    refired = (await post(api, CPU)).json()["results"][0]
    assert refired["outcome"] == "refired" and refired["alert_id"] == alert_id


async def test_unknown_ids_and_extra_fields(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v1/alerts/nope")).status_code == 404
    assert (await api.post("/api/v1/alerts/nope/ack")).status_code == 404
    r = await api.post("/api/v1/alerts/nope/ack", json={"actor": "a", "role": "admin"})
    assert r.status_code == 422
    r = await post(api, {**CPU, "tenant_id": "other"})
    assert r.status_code == 422 and "tenant_id" in r.json()["detail"]


async def test_batch_with_one_bad_alert_writes_nothing(api: httpx.AsyncClient) -> None:
    bad = [CPU, {"title": "x", "severity": "catastrophic"}]
    r = await post(api, bad)
    assert r.status_code == 422
    assert r.json()["index"] == 1 and r.json()["field"] == "severity"
    assert (await api.get("/api/v1/alerts")).json()["items"] == []


async def test_batch_limit_is_413(api: httpx.AsyncClient) -> None:
    r = await post(api, [{"title": f"t{i}"} for i in range(51)])
    assert r.status_code == 413 and "limit is 50" in r.json()["detail"]


async def test_list_filters_and_cursor_pagination(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    for i in range(25):
        sev = "critical" if i % 5 == 0 else "low"
        await post(
            api,
            {
                "title": f"a{i}",
                "severity": sev,
                "labels": {"alertname": f"a{i}", "team": "db" if i % 2 else "web"},
            },
        )
        clock.advance(1)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/api/v1/alerts", params=params)).json()
        seen += [a["title"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"a{i}" for i in reversed(range(25))]
    crit = (await api.get("/api/v1/alerts", params={"severity": "critical"})).json()["items"]
    assert {a["title"] for a in crit} == {"a0", "a5", "a10", "a15", "a20"}
    db = (
        await api.get("/api/v1/alerts", params={"filter": 'team="db"', "severity": "critical"})
    ).json()
    assert {a["title"] for a in db["items"]} == {"a5", "a15"}
    regex = (await api.get("/api/v1/alerts", params={"filter": 'alertname=~"a1."'})).json()["items"]
    assert len(regex) == 10


async def test_status_filter_treats_expired_as_resolved(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await api.post("/api/v2/alerts", json=[{"labels": {"alertname": "Expiring"}}])
    assert len((await api.get("/api/v1/alerts", params={"status": "firing"})).json()["items"]) == 1
    clock.advance(301)
    assert (await api.get("/api/v1/alerts", params={"status": "firing"})).json()["items"] == []
    resolved = (await api.get("/api/v1/alerts", params={"status": "resolved"})).json()["items"]
    assert resolved[0]["status"] == "resolved"


@pytest.mark.parametrize(
    "params",
    [{"cursor": "garbage!"}, {"filter": "' OR 1=1--"}, {"status": "open"}, {"limit": 0},
     {"since": "2024-01-01T00:00:00"}, {"sort": "severity;DROP TABLE alerts", "limit": "x"}],
)  # fmt: skip
async def test_bad_query_parameters_are_422(api: httpx.AsyncClient, params: dict) -> None:
    r = await api.get("/api/v1/alerts", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


async def test_explain_names_fingerprint_and_merges(api: httpx.AsyncClient) -> None:
    alert_id = (await post(api, CPU)).json()["results"][0]["alert_id"]
    await post(api, CPU)
    ex = (await api.get(f"/api/v1/alerts/{alert_id}/explain")).json()
    assert ex["fingerprint"]["identity_labels"] == {"alertname": "HighCPU", "host": "a"}
    assert ex["fingerprint"]["strategy"] == "am-fnv1a64-v1"
    assert ex["deduplication"]["merged_sends"] == 1
    assert ex["transitions"][0]["to_status"] == "firing"
    assert ex["deduplication"]["first_seen"].endswith("Z")


async def test_tenants_do_not_see_each_other(api: httpx.AsyncClient) -> None:
    a = (await post(api, CPU, tenant="alpha")).json()["results"][0]
    b = (await post(api, CPU, tenant="beta")).json()["results"][0]
    assert a["fingerprint"] == b["fingerprint"] and a["alert_id"] != b["alert_id"]
    assert b["outcome"] == "created"
    r = await api.get(f"/api/v1/alerts/{a['alert_id']}", headers={"X-Tenant-ID": "beta"})
    assert r.status_code == 404
    r = await api.post(f"/api/v1/alerts/{a['alert_id']}/ack", headers={"X-Tenant-ID": "beta"})
    assert r.status_code == 404
    assert (await api.get("/api/v1/alerts", headers={"X-Tenant-ID": "gamma"})).json()["items"] == []


async def test_overload_is_503_with_retry_after_and_writes_nothing(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch = api_orchestrator

    async def full(_: object) -> None:
        raise Overloaded("50000 alerts are waiting for commit; retry shortly", retry_after=2)

    monkeypatch.setattr(orch.store, "apply_sends", full)
    for path, body in (("/api/v1/alerts", CPU), ("/api/v2/alerts", [{"labels": {"a": "b"}}])):
        r = await api.post(path, json=body)
        assert r.status_code == 503
        assert r.headers["retry-after"] == "2"
        detail = r.json() if path.startswith("/api/v2/") else r.json()["detail"]  # AM: a string
        assert "waiting for commit" in detail

    async def down(_: object) -> None:
        raise StorageUnavailable("SQLite cannot write: disk I/O error", retry_after=2)

    monkeypatch.setattr(orch.store, "apply_sends", down)
    r = await api.post("/api/v1/alerts", json=CPU)
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    monkeypatch.undo()
    assert (await api.get("/api/v1/alerts")).json()["items"] == []
