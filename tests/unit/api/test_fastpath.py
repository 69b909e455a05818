"""The fast path of `POST /api/v2/alerts` answers exactly as the documented route does."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from core_alerts.api import fastpath
from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import ROLE_SCOPES, Role

GOOD = [{"labels": {"alertname": "DiskFull", "instance": "db-1"}}]
# (body, content type, credentials): each is sent plain (fast path) and with a query string
# (the route); both answers must match.
CASES: dict[str, tuple[bytes, str, str | None]] = {
    "valid": (json.dumps(GOOD).encode(), "application/json", "admin"),
    "invalid JSON": (b'[{"labels": ', "application/json", "admin"),
    "bad label name": (b'[{"labels": {"a-b": "x"}}]', "application/json", "admin"),
    "no labels": (b'[{"labels": {}}]', "application/json", "admin"),
    "wrong content type": (b"[]", "text/plain", "admin"),
    "no credentials": (json.dumps(GOOD).encode(), "application/json", None),
    "bad token": (json.dumps(GOOD).encode(), "application/json", "Bearer nope"),
    "read-only caller": (json.dumps(GOOD).encode(), "application/json", "viewer"),
}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests the fast path answered (the route does not go through it)."""
    calls: list[int] = []
    original = fastpath.ingest_v2

    async def counting(*args: Any) -> Any:
        calls.append(1)
        return await original(*args)

    monkeypatch.setattr(fastpath, "ingest_v2", counting)
    return calls


def credentials(who: str | None, orch: EngineOrchestrator) -> dict[str, str]:
    security = orch.security_manager
    if who is None:
        return {"Authorization": ""}  # replaces the client's default credentials
    if who == "admin":
        return {"Authorization": f"Bearer {security.admin_token()}"}
    if who == "viewer":
        token = security.issue_token("default", "viewer", ROLE_SCOPES[Role.VIEWER])[0]
        return {"Authorization": f"Bearer {token}"}
    return {"Authorization": who}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_both_paths_answer_alike(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator, counted: list[int], case: str
) -> None:
    body, content_type, who = CASES[case]
    headers = {"Content-Type": content_type, **credentials(who, api_orchestrator)}
    fast = await api.post("/api/v2/alerts", content=body, headers=headers)
    routed = await api.post("/api/v2/alerts?via=route", content=body, headers=headers)
    assert (fast.status_code, fast.content) == (routed.status_code, routed.content)
    assert fast.headers.get("content-type") == routed.headers.get("content-type")
    assert fast.headers.get("www-authenticate") == routed.headers.get("www-authenticate")
    if case == "valid":
        assert fast.status_code == 200 and counted == [1]
    else:
        assert fast.status_code >= 400


async def test_both_paths_store_audit_and_count_alike(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator, counted: list[int]
) -> None:
    body = json.dumps(GOOD)
    headers = {"Content-Type": "application/json"}
    assert (await api.post("/api/v2/alerts", content=body, headers=headers)).status_code == 200
    assert (await api.post("/api/v2/alerts?x=1", content=body, headers=headers)).status_code == 200
    assert counted == [1]
    [alert] = (await api.get("/api/v1/alerts")).json()["items"]
    assert alert["occurrences"] == 2  # one alert, deduplicated across both paths
    await api_orchestrator.security_manager.trail.flush()  # type: ignore[union-attr]
    entries = (await api.get("/api/v1/audit", params={"action": "api.v2.alerts.post"})).json()
    assert len(entries["entries"]) == 2
    assert {e["details"]["route"] for e in entries["entries"]} == {"/api/v2/alerts"}


async def test_a_tenant_header_goes_to_the_route(
    api: httpx.AsyncClient, counted: list[int]
) -> None:
    answer = await api.post("/api/v2/alerts", json=GOOD, headers={"X-Tenant-ID": "acme"})
    assert answer.status_code == 200 and counted == []
    listed = (await api.get("/api/v1/alerts", headers={"X-Tenant-ID": "acme"})).json()
    assert [a["labels"]["instance"] for a in listed["items"]] == ["db-1"]


@pytest.mark.parametrize("path", ["/api/v2/alerts", "/api/v2/alerts?via=route", "/api/v1/alerts"])
async def test_a_client_that_leaves_before_its_body_gets_no_server_error(
    api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator, path: str
) -> None:
    # What wrk does when its time is up: requests cut off mid-body. The server must not
    # treat that as its own failure (a 500 and a logged traceback), and writes nothing.
    app = api._transport.app  # type: ignore[attr-defined]
    token = api_orchestrator.security_manager.admin_token()
    route, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": route, "raw_path": route.encode(),
        "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "headers": [
            (b"content-type", b"application/json"), (b"content-length", b"100"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    listed = await api.get("/api/v1/alerts")
    assert listed.status_code == 200 and listed.json()["items"] == []
