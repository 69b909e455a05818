"""Access control over the whole API: every route declares a scope, and a matrix of
route x role x tenant gets exactly the answers RBAC and tenancy promise."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from core_alerts.api import create_app
from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import ROLE_SCOPES, Role, Scope
from core_alerts.domain.clock import FixedClock

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/login"),
}
"""Routes that answer without credentials (besides /metrics, public by configuration)."""


def scopes_of(dependant: Dependant) -> list[Scope]:
    found: list[Scope] = []
    call: Callable[..., Any] | None = dependant.call
    if call is not None and hasattr(call, "required_scope"):
        found.append(call.required_scope)
    for sub in dependant.dependencies:
        found.extend(scopes_of(sub))
    return found


def flat_routes(routes: list[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # an included router keeps its own list
            found.extend(flat_routes(route.original_router.routes))
    return found


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    return [
        (method, route.path, route)
        for route in flat_routes(app.routes)
        for method in sorted(route.methods)
    ]


def test_every_route_declares_its_scope_or_is_on_the_public_list(
    api_orchestrator: EngineOrchestrator,
) -> None:
    app = create_app(api_orchestrator)
    unguarded = [
        f"{method} {path}"
        for method, path, route in api_routes(app)
        if (method, path) not in PUBLIC and len(scopes_of(route.dependant)) != 1
    ]
    assert unguarded == [], "routes without exactly one scope dependency"
    assert len(api_routes(app)) > 20


@pytest.fixture
async def world(api: httpx.AsyncClient, api_orchestrator: EngineOrchestrator) -> dict[str, Any]:
    """Tenant acme holds one alert; tokens for every role in tenant beta and in acme."""
    posted = await api.post(
        "/api/v1/alerts", json={"title": "acme's", "labels": {"a": "1"}},
        headers={"X-Tenant-ID": "acme"},
    )  # fmt: skip
    assert posted.status_code == 200, posted.text
    security = api_orchestrator.security_manager
    tokens = {
        (tenant, role): security.issue_token(tenant, f"{role}@{tenant}", ROLE_SCOPES[role])[0]
        for tenant in ("acme", "beta")
        for role in Role
        if role is not Role.PLATFORM_ADMIN
    }
    return {"alert_id": posted.json()["results"][0]["alert_id"], "tokens": tokens}


def concrete(path: str, alert_id: str) -> str:
    values = {"alert_id": alert_id, "key_id": "0123456789abcdef", "tenant_id": "acme",
              "action": "disable", "name": "nope"}  # fmt: skip
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "x"), path)


BODIES: dict[str, Any] = {
    "/api/v1/alerts": {"title": "t"},
    "/api/v2/alerts": [{"labels": {"alertname": "m"}}],
    "/api/v1/keys": {"name": "k", "role": "viewer"},
    "/api/v1/users": {"username": "u1", "password": "a long password 1", "role": "viewer"},
    "/api/v1/tenants": {"id": "newco"},
}


@pytest.fixture
async def raw(
    api_orchestrator: EngineOrchestrator, api: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """A client without credentials, on the same (already started) app as `api`."""
    transport = api._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_route_role_tenant_matrix(
    api_orchestrator: EngineOrchestrator,
    raw: httpx.AsyncClient,
    world: dict[str, Any],
    api: httpx.AsyncClient,
) -> None:
    app = create_app(api_orchestrator)
    alert_id = world["alert_id"]
    before = (await api.get(f"/api/v1/alerts/{alert_id}", headers={"X-Tenant-ID": "acme"})).json()
    problems: list[str] = []
    calls = 0
    for method, path, route in api_routes(app):
        if (method, path) in PUBLIC or path in ("/metrics", "/api/v1/auth/logout"):
            continue  # logout would revoke the token the next calls use; tested on its own
        (scope,) = scopes_of(route.dependant)
        url = concrete(path, alert_id)
        body = BODIES.get(path)
        anonymous = await raw.request(method, url, json=body)
        calls += 1
        if anonymous.status_code != 401:
            problems.append(f"{method} {path} without credentials: {anonymous.status_code}")
        for role in Role:
            if role is Role.PLATFORM_ADMIN:
                continue
            token = world["tokens"][("beta", role)]
            headers = {"Authorization": f"Bearer {token}"}
            r = await raw.request(method, url, json=body, headers=headers)
            calls += 1
            allowed = scope in ROLE_SCOPES[role]
            if r.status_code >= 500:
                problems.append(f"{method} {path} as beta {role}: {r.status_code}")
            elif not allowed and r.status_code != 403:
                problems.append(f"{method} {path} as beta {role} lacks {scope}: {r.status_code}")
            elif allowed and "{alert_id}" in path and r.status_code != 404:
                problems.append(f"{method} {path} as beta {role} on acme's alert: {r.status_code}")
            elif allowed and r.status_code in (401, 403):
                problems.append(f"{method} {path} as beta {role} holds {scope}: {r.status_code}")
            # Naming acme in the header never reaches acme's data.
            cross = await raw.request(
                method, url, json=body, headers={**headers, "X-Tenant-ID": "acme"}
            )
            calls += 1
            if cross.status_code != 404:
                problems.append(f"{method} {path} as beta {role} in acme: {cross.status_code}")
    assert problems == [], "\n".join(problems)
    assert calls > 150
    after = (await api.get(f"/api/v1/alerts/{alert_id}", headers={"X-Tenant-ID": "acme"})).json()
    assert after == before  # 0 cross-tenant writes
    listed = await api.get("/api/v1/alerts", headers={"X-Tenant-ID": "acme"})
    assert [a["title"] for a in listed.json()["items"]] == ["acme's"]


async def test_roles_reach_their_own_tenant(raw: httpx.AsyncClient, world: dict[str, Any]) -> None:
    alert_id = world["alert_id"]

    def auth(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {world['tokens'][('acme', role)]}"}

    assert (
        await raw.get(f"/api/v1/alerts/{alert_id}", headers=auth(Role.VIEWER))
    ).status_code == 200
    ack = await raw.post(f"/api/v1/alerts/{alert_id}/ack", headers=auth(Role.RESPONDER))
    assert ack.status_code == 200 and ack.json()["acked_by"] == "responder@acme"
    assert (await raw.post("/api/v2/alerts", json=[{"labels": {"a": "b"}}],
                           headers=auth(Role.INGEST))).status_code == 200  # fmt: skip
    denied = await raw.get("/api/v1/alerts", headers=auth(Role.INGEST))
    assert denied.status_code == 403
    assert denied.json()["detail"] == "this needs the alerts:read scope"


async def test_keys_users_login_logout_and_throttling(
    raw: httpx.AsyncClient, world: dict[str, Any], clock: FixedClock
) -> None:
    admin = {"Authorization": f"Bearer {world['tokens'][('acme', Role.ADMIN)]}"}
    responder = {"Authorization": f"Bearer {world['tokens'][('acme', Role.RESPONDER)]}"}
    # A key never holds more than its creator; the admin's key is shown once, listed without it.
    assert (await raw.post("/api/v1/keys", json={"name": "x", "role": "responder"},
                           headers=responder)).status_code == 403  # fmt: skip
    made = await raw.post("/api/v1/keys", json={"name": "prom", "role": "ingest"}, headers=admin)
    assert made.status_code == 201
    key, key_id = made.json()["key"], made.json()["info"]["id"]
    listed = (await raw.get("/api/v1/keys", headers=admin)).json()
    assert [k["id"] for k in listed] == [key_id] and key not in str(listed)
    for header in (f"Bearer {key}", httpx.BasicAuth("prom", key)._auth_header):
        sent = await raw.post("/api/v2/alerts", json=[{"labels": {"k": "v"}}],
                              headers={"Authorization": header})  # fmt: skip
        assert sent.status_code == 200
    assert (await raw.delete(f"/api/v1/keys/{key_id}", headers=admin)).json()["revoked_at"]
    gone = await raw.post("/api/v2/alerts", json=[{"labels": {"k": "v"}}],
                          headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert gone.status_code == 401
    # Users log in with a password; logging out revokes the token.
    user = {"username": "ann", "password": "a long password 1", "role": "responder"}
    assert (await raw.post("/api/v1/users", json=user, headers=admin)).status_code == 201
    login = await raw.post(
        "/api/v1/auth/login", json={"username": "ann", "password": user["password"]}
    )
    assert login.status_code == 200 and login.headers["cache-control"] == "no-store"
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = (await raw.get("/api/v1/auth/whoami", headers=token)).json()
    assert (me["subject"], me["tenant_id"], me["kind"]) == ("ann", "acme", "token")
    assert (await raw.post("/api/v1/auth/logout", headers=token)).status_code == 204
    assert (await raw.get("/api/v1/auth/whoami", headers=token)).status_code == 401
    # Guessing: five free failures, then 429 with Retry-After, also for the right password.
    wrong = {"username": "ann", "password": "not the password"}
    codes = [(await raw.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(6)]
    assert codes == [401] * 6
    blocked = await raw.post(
        "/api/v1/auth/login", json={"username": "ann", "password": user["password"]}
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    clock.advance(int(blocked.headers["retry-after"]))
    again = await raw.post(
        "/api/v1/auth/login", json={"username": "ann", "password": user["password"]}
    )
    assert again.status_code == 200


async def test_expired_tokens_and_disabled_tenants_are_refused(
    raw: httpx.AsyncClient, api: httpx.AsyncClient, world: dict[str, Any], clock: FixedClock
) -> None:
    viewer = {"Authorization": f"Bearer {world['tokens'][('beta', Role.VIEWER)]}"}
    assert (await raw.get("/api/v1/alerts", headers=viewer)).status_code == 200
    assert (await api.post("/api/v1/tenants/beta/disable")).json()["status"] == "disabled"
    refused = await raw.get("/api/v1/alerts", headers=viewer)
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert (await api.post("/api/v1/tenants/beta/enable")).json()["status"] == "active"
    assert (await raw.get("/api/v1/alerts", headers=viewer)).status_code == 200
    clock.advance(3600 + 31)  # past the lifetime and the leeway
    expired = await raw.get("/api/v1/alerts", headers=viewer)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


async def test_an_admin_revokes_a_token_by_its_jti(
    raw: httpx.AsyncClient, world: dict[str, Any], api_orchestrator: EngineOrchestrator
) -> None:
    security = api_orchestrator.security_manager
    token, claims = security.issue_token("acme", "leaked", ROLE_SCOPES[Role.VIEWER])
    leaked = {"Authorization": f"Bearer {token}"}
    assert (await raw.get("/api/v1/alerts", headers=leaked)).status_code == 200
    admin = {"Authorization": f"Bearer {world['tokens'][('acme', Role.ADMIN)]}"}
    body = {"jti": claims.jti, "expires_at": claims.expires_at}
    assert (await raw.post("/api/v1/auth/revoke", json=body, headers=admin)).status_code == 204
    refused = await raw.get("/api/v1/alerts", headers=leaked)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
