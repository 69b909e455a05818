"""Authentication and access: login, whoami, logout; tenants; API keys; users."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from core_alerts.api.deps import Caller, orchestrator, require
from core_alerts.api.encoding import json_response, response_doc
from core_alerts.app import EngineOrchestrator
from core_alerts.domain.access import (
    ROLE_SCOPES,
    ApiKeyRecord,
    Role,
    Scope,
    Tenant,
    TenantStatus,
    parse_scopes,
)
from core_alerts.domain.errors import ValidationFailed
from core_alerts.security import CredentialKind

router = APIRouter(prefix="/api/v1", tags=["access"])
Orch = Annotated[EngineOrchestrator, Depends(orchestrator)]
AnyCaller = Annotated[Caller, require(Scope.ALERTS_READ)]
KeyAdmin = Annotated[Caller, require(Scope.KEYS_WRITE)]
UserAdmin = Annotated[Caller, require(Scope.USERS_WRITE)]
TenantAdmin = Annotated[Caller, require(Scope.TENANTS_ADMIN)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenView(msgspec.Struct):
    access_token: str
    token_type: str
    expires_at: float
    tenant_id: str
    scopes: list[str]


class WhoAmIView(msgspec.Struct):
    subject: str
    tenant_id: str
    acting_in: str
    kind: str
    scopes: list[str]
    expires_at: float | None


class TenantBody(_Body):
    id: str = Field(min_length=1, max_length=64, description="Letters, digits, '_', '.', '-'.")
    name: str = Field("", max_length=200)


class TenantView(msgspec.Struct):
    id: str
    name: str
    status: str
    created_at: float


class KeyBody(_Body):
    name: str = Field(min_length=1, max_length=64)
    role: Role | None = Field(None, description="Scopes of a role; or give `scopes`.")
    scopes: list[str] | None = Field(None, description="Explicit scopes, e.g. alerts:write.")
    ttl_seconds: float | None = Field(None, gt=0, description="Expiry; none means no expiry.")


class KeyView(msgspec.Struct):
    id: str
    name: str
    tenant_id: str
    scopes: list[str]
    created_by: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None


class NewKeyView(msgspec.Struct):
    key: str
    """The full key: shown here once, never again."""
    info: KeyView


class UserBody(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=12, max_length=1024)
    role: Role


class UserView(msgspec.Struct):
    id: str
    username: str
    tenant_id: str
    role: str


def _tenant_view(t: Tenant) -> TenantView:
    return TenantView(id=t.id, name=t.name, status=t.status, created_at=t.created_at)


def _key_view(k: ApiKeyRecord) -> KeyView:
    return KeyView(
        id=k.id, name=k.name, tenant_id=k.tenant_id, scopes=k.scopes, created_by=k.created_by,
        created_at=k.created_at, expires_at=k.expires_at, revoked_at=k.revoked_at,
    )  # fmt: skip


# -- authentication ----------------------------------------------------------------------


@router.post("/auth/login", summary="Exchange a username and password for a token",
             responses=response_doc(TokenView))  # fmt: skip
async def login(body: LoginBody, request: Request, orch: Orch) -> Response:
    client = request.client.host if request.client else "unknown"
    token, claims = await orch.security_manager.login(body.username, body.password, client)
    view = TokenView(
        access_token=token, token_type="Bearer", expires_at=claims.expires_at,  # noqa: S106
        tenant_id=claims.tenant_id, scopes=sorted(claims.scopes),
    )  # fmt: skip
    return json_response(view, headers={"Cache-Control": "no-store"})


@router.get("/auth/whoami", summary="Who the credentials belong to",
            responses=response_doc(WhoAmIView))  # fmt: skip
async def whoami(caller: AnyCaller) -> Response:
    p = caller.principal
    return json_response(
        WhoAmIView(
            subject=p.subject, tenant_id=p.tenant_id, acting_in=caller.tenant_id,
            kind=p.kind.value, scopes=sorted(p.scopes), expires_at=p.expires_at,
        )
    )  # fmt: skip


@router.post("/auth/logout", status_code=204, summary="Revoke the token this request carries")
async def logout(caller: AnyCaller, orch: Orch) -> Response:
    p = caller.principal
    if p.kind != CredentialKind.TOKEN:
        raise ValidationFailed("only a token can be logged out; revoke API keys by id")
    await orch.security_manager.revoke_token(p, p.credential_id, p.expires_at)
    return Response(status_code=204)


class RevokeBody(_Body):
    jti: str = Field(min_length=1, max_length=128, description="The token's `jti` claim.")
    expires_at: float | None = Field(
        None, description="The token's `exp`; kept until then (default: the longest lifetime)."
    )


@router.post("/auth/revoke", status_code=204, summary="Revoke a token by its jti")
async def revoke(body: RevokeBody, orch: Orch, caller: KeyAdmin) -> Response:
    await orch.security_manager.revoke_token(caller.principal, body.jti, body.expires_at)
    return Response(status_code=204)


# -- tenants ------------------------------------------------------------------------------


@router.post("/tenants", status_code=201, summary="Create a tenant",
             responses=response_doc(TenantView, 201))  # fmt: skip
async def create_tenant(body: TenantBody, orch: Orch, _: TenantAdmin) -> Response:
    tenant = await orch.security_manager.create_tenant(body.id, body.name)
    return json_response(_tenant_view(tenant), 201)


@router.get("/tenants", summary="List tenants", responses=response_doc(list[TenantView]))
async def list_tenants(orch: Orch, _: TenantAdmin) -> Response:
    tenants = await orch.security_manager.store.list_tenants()
    return json_response([_tenant_view(t) for t in tenants])


@router.post("/tenants/{tenant_id}/{action}", summary="Disable or enable a tenant",
             responses=response_doc(TenantView))  # fmt: skip
async def set_tenant_status(
    tenant_id: str, action: Literal["disable", "enable"], orch: Orch, _: TenantAdmin
) -> Response:
    status = TenantStatus.DISABLED if action == "disable" else TenantStatus.ACTIVE
    tenant = await orch.security_manager.set_tenant_status(tenant_id, status)
    return json_response(_tenant_view(tenant))


# -- API keys and users -----------------------------------------------------------------


@router.post("/keys", status_code=201, summary="Create an API key (shown once)",
             responses=response_doc(NewKeyView, 201))  # fmt: skip
async def create_key(body: KeyBody, orch: Orch, caller: KeyAdmin) -> Response:
    scopes = _scopes_of(body)
    record, key = await orch.security_manager.create_api_key(
        caller.principal, caller.tenant_id, body.name, scopes, body.ttl_seconds
    )
    return json_response(NewKeyView(key=key, info=_key_view(record)), 201,
                         headers={"Cache-Control": "no-store"})  # fmt: skip


@router.get("/keys", summary="List the tenant's API keys (never their secrets)",
            responses=response_doc(list[KeyView]))  # fmt: skip
async def list_keys(orch: Orch, caller: KeyAdmin) -> Response:
    keys = await orch.security_manager.store.list_api_keys(caller.tenant_id)
    return json_response([_key_view(k) for k in keys])


@router.delete("/keys/{key_id}", summary="Revoke an API key", responses=response_doc(KeyView))
async def revoke_key(key_id: str, orch: Orch, caller: KeyAdmin) -> Response:
    record = await orch.security_manager.revoke_api_key(caller.tenant_id, key_id)
    return json_response(_key_view(record))


@router.post("/users", status_code=201, summary="Create a user who logs in with a password",
             responses=response_doc(UserView, 201))  # fmt: skip
async def create_user(body: UserBody, orch: Orch, caller: UserAdmin) -> Response:
    user = await orch.security_manager.create_user(
        caller.principal, caller.tenant_id, body.username, body.password, body.role
    )
    view = UserView(id=user.id, username=user.username, tenant_id=user.tenant_id, role=user.role)
    return json_response(view, 201)


def _scopes_of(body: KeyBody) -> frozenset[Scope]:
    if (body.role is None) == (body.scopes is None):
        raise ValidationFailed("give either `role` or `scopes`", field="scopes")
    if body.role is not None:
        return ROLE_SCOPES[body.role]
    try:
        return parse_scopes(body.scopes or [])
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="scopes") from None
