"""PostgresAccessStore: tenants and credentials on PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from core_alerts.domain.access import ApiKeyRecord, SigningKey, Tenant, UserAccount
from core_alerts.domain.datakeys import WrappedDataKey
from core_alerts.domain.errors import ConflictError, NotFound
from core_alerts.store.postgres.connections import PostgresPool

_KEY_COLUMNS = (
    "tenant_id, id, name, secret_hash, scopes, created_by, created_at, expires_at, revoked_at"
)
_USER_COLUMNS = "tenant_id, id, username, password_hash, role, created_at, disabled"


class PostgresAccessStore:
    """A small pool of its own: credentials are read rarely (callers cache them)."""

    def __init__(self, dsn: str, *, connect_timeout: float = 5.0) -> None:
        self._db = PostgresPool(
            dsn,
            store="access store",
            app_name="core-alerts-access",
            max_size=2,
            connect_timeout=connect_timeout,
            command_timeout=None,
            role=None,  # credentials are found across tenants: no row-level wall here
        )

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self._db.connection("read the access store", _exists) as conn:
            return list(await conn.fetch(sql, *args))

    async def _execute(self, sql: str, *args: Any) -> str:
        async with self._db.connection("write the access store", _exists) as conn:
            return str(await conn.execute(sql, *args))

    # -- tenants -----------------------------------------------------------------------

    async def create_tenant(self, tenant: Tenant) -> None:
        await self._execute(
            "INSERT INTO tenants (id, name, status, created_at) VALUES ($1, $2, $3, $4)",
            tenant.id, tenant.name, tenant.status, tenant.created_at,
        )  # fmt: skip

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        rows = await self._fetch(
            "SELECT id, name, status, created_at FROM tenants WHERE id = $1", tenant_id
        )
        return _tenant(rows[0]) if rows else None

    async def list_tenants(self) -> list[Tenant]:
        rows = await self._fetch("SELECT id, name, status, created_at FROM tenants ORDER BY id")
        return [_tenant(r) for r in rows]

    async def set_tenant_status(self, tenant_id: str, status: str) -> Tenant:
        rows = await self._fetch(
            "UPDATE tenants SET status = $1 WHERE id = $2 RETURNING id, name, status, created_at",
            status, tenant_id,
        )  # fmt: skip
        if not rows:
            raise NotFound(f"tenant {tenant_id} not found")
        return _tenant(rows[0])

    # -- users -------------------------------------------------------------------------

    async def create_user(self, user: UserAccount) -> None:
        await self._execute(
            f"INSERT INTO users ({_USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            user.tenant_id, user.id, user.username, user.password_hash, user.role,
            user.created_at, user.disabled,
        )  # fmt: skip

    async def get_user(self, username: str) -> UserAccount | None:
        rows = await self._fetch(f"SELECT {_USER_COLUMNS} FROM users WHERE username = $1", username)
        return UserAccount(**dict(rows[0])) if rows else None

    # -- API keys ----------------------------------------------------------------------

    async def create_api_key(self, key: ApiKeyRecord) -> None:
        await self._execute(
            f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            key.tenant_id, key.id, key.name, key.secret_hash,
            msgspec.json.encode(key.scopes).decode(), key.created_by, key.created_at,
            key.expires_at, key.revoked_at,
        )  # fmt: skip

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = await self._fetch(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = $1", key_id)
        return _api_key(rows[0]) if rows else None

    async def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        rows = await self._fetch(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id",
            tenant_id,
        )
        return [_api_key(r) for r in rows]

    async def revoke_api_key(self, tenant_id: str, key_id: str, at: float) -> ApiKeyRecord:
        rows = await self._fetch(
            f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) "
            f"WHERE tenant_id = $2 AND id = $3 RETURNING {_KEY_COLUMNS}",
            at, tenant_id, key_id,
        )  # fmt: skip
        if not rows:
            raise NotFound(f"API key {key_id} not found")
        return _api_key(rows[0])

    # -- tokens and signing keys -------------------------------------------------------

    async def revoke_token(self, tenant_id: str, jti: str, expires_at: float) -> None:
        await self._execute(
            "INSERT INTO revoked_tokens (tenant_id, jti, expires_at) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            tenant_id, jti, expires_at,
        )  # fmt: skip

    async def revoked_tokens(self, now: float) -> set[str]:
        rows = await self._fetch("SELECT jti FROM revoked_tokens WHERE expires_at > $1", now)
        return {r[0] for r in rows}

    async def signing_keys(self) -> list[SigningKey]:
        rows = await self._fetch(
            "SELECT kid, algorithm, secret, created_at FROM signing_keys "
            "ORDER BY created_at DESC, kid"
        )
        return [SigningKey(**dict(r)) for r in rows]

    # -- field encryption data keys (the DataKeyStore port) -------------------------------

    async def load(self, tenant_id: str, subject: str | None) -> list[WrappedDataKey]:
        rows = await self._fetch(
            f"SELECT {_DK_COLUMNS} FROM data_keys WHERE tenant_id = $1 AND subject = $2",
            tenant_id, subject or "",
        )  # fmt: skip
        return [_data_key(r) for r in rows]

    async def load_tenant(self, tenant_id: str) -> list[WrappedDataKey]:
        rows = await self._fetch(
            f"SELECT {_DK_COLUMNS} FROM data_keys WHERE tenant_id = $1", tenant_id
        )
        return [_data_key(r) for r in rows]

    async def tenant_ids(self) -> list[str]:
        rows = await self._fetch("SELECT DISTINCT tenant_id FROM data_keys ORDER BY tenant_id")
        return [r[0] for r in rows]

    async def add(self, key: WrappedDataKey) -> None:
        await self._execute(
            f"INSERT INTO data_keys ({_DK_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
            key.tenant_id, key.subject or "", key.version, key.master_key_id, key.wrapped,
        )  # fmt: skip

    async def replace(self, keys: Sequence[WrappedDataKey]) -> None:
        async with self._db.connection("replace data keys", _exists) as conn, conn.transaction():
            for k in keys:
                status = await conn.execute(
                    "UPDATE data_keys SET master_key_id = $1, wrapped = $2 "
                    "WHERE tenant_id = $3 AND subject = $4 AND version = $5",
                    k.master_key_id, k.wrapped, k.tenant_id, k.subject or "", k.version,
                )  # fmt: skip
                if status.endswith(" 0"):
                    raise ConflictError(f"data key {k.key_id} of {k.tenant_id} is not stored")

    async def add_signing_key(self, key: SigningKey) -> None:
        await self._execute(
            "INSERT INTO signing_keys (kid, algorithm, secret, created_at) VALUES ($1, $2, $3, $4)",
            key.kid, key.algorithm, key.secret, key.created_at,
        )  # fmt: skip


_DK_COLUMNS = "tenant_id, subject, version, master_key_id, wrapped"


def _exists(exc: asyncpg.UniqueViolationError) -> ConflictError:
    return ConflictError(f"already exists: {exc.detail or exc}")


def _data_key(row: Any) -> WrappedDataKey:
    tenant_id, subject, version, master_key_id, wrapped = row
    return WrappedDataKey(
        tenant_id=tenant_id, subject=subject or None, version=version,
        master_key_id=master_key_id, wrapped=None if wrapped is None else bytes(wrapped),
    )  # fmt: skip


def _tenant(row: Any) -> Tenant:
    return Tenant(id=row[0], name=row[1], status=row[2], created_at=row[3])


def _api_key(row: Any) -> ApiKeyRecord:
    values = dict(row)
    values["scopes"] = msgspec.json.decode(values["scopes"], type=list[str])
    return ApiKeyRecord(**values)
