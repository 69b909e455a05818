"""SqliteAccessStore: tenants and credentials in the same SQLite file as the alerts."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from core_alerts.domain.access import ApiKeyRecord, SigningKey, Tenant, UserAccount
from core_alerts.domain.datakeys import WrappedDataKey
from core_alerts.domain.errors import ConflictError, NotFound
from core_alerts.store.sqlite.connections import SqliteConnections

_KEY_COLUMNS = (
    "tenant_id, id, name, secret_hash, scopes, created_by, created_at, expires_at, revoked_at"
)
_USER_COLUMNS = "tenant_id, id, username, password_hash, role, created_at, disabled"


class SqliteAccessStore:
    """Few, small writes on the writer thread of SqliteConnections; reads on its reader."""

    def __init__(self, path: str) -> None:
        self._db = SqliteConnections(path, name="access", what="access store")

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        return await self._db.write(lambda c: c.execute(sql, params).rowcount, conflict=_exists)

    async def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return await self._db.read(lambda c: c.execute(sql, params).fetchall())

    # -- tenants -----------------------------------------------------------------------

    async def create_tenant(self, tenant: Tenant) -> None:
        await self._write(
            "INSERT INTO tenants (id, name, status, created_at) VALUES (?, ?, ?, ?)",
            (tenant.id, tenant.name, tenant.status, tenant.created_at),
        )

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        rows = await self._rows(
            "SELECT id, name, status, created_at FROM tenants WHERE id = ?", (tenant_id,)
        )
        return _tenant(rows[0]) if rows else None

    async def list_tenants(self) -> list[Tenant]:
        rows = await self._rows("SELECT id, name, status, created_at FROM tenants ORDER BY id")
        return [_tenant(r) for r in rows]

    async def set_tenant_status(self, tenant_id: str, status: str) -> Tenant:
        if not await self._write("UPDATE tenants SET status = ? WHERE id = ?", (status, tenant_id)):
            raise NotFound(f"tenant {tenant_id} not found")
        found = await self.get_tenant(tenant_id)
        assert found is not None
        return found

    # -- users -------------------------------------------------------------------------

    async def create_user(self, user: UserAccount) -> None:
        await self._write(
            f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user.tenant_id, user.id, user.username, user.password_hash, user.role,
             user.created_at, user.disabled),
        )  # fmt: skip

    async def get_user(self, username: str) -> UserAccount | None:
        rows = await self._rows(
            f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)
        )
        if not rows:
            return None
        tenant_id, id_, name, pw_hash, role, created_at, disabled = rows[0]
        return UserAccount(
            tenant_id=tenant_id, id=id_, username=name, password_hash=pw_hash, role=role,
            created_at=created_at, disabled=bool(disabled),
        )  # fmt: skip

    # -- API keys ----------------------------------------------------------------------

    async def create_api_key(self, key: ApiKeyRecord) -> None:
        await self._write(
            f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key.tenant_id, key.id, key.name, key.secret_hash, _json(key.scopes),
             key.created_by, key.created_at, key.expires_at, key.revoked_at),
        )  # fmt: skip

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = await self._rows(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
        return _api_key(rows[0]) if rows else None

    async def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        rows = await self._rows(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id",
            (tenant_id,),
        )
        return [_api_key(r) for r in rows]

    async def revoke_api_key(self, tenant_id: str, key_id: str, at: float) -> ApiKeyRecord:
        await self._write(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) "
            "WHERE tenant_id = ? AND id = ?",
            (at, tenant_id, key_id),
        )
        found = await self.get_api_key(key_id)
        if found is None or found.tenant_id != tenant_id:
            raise NotFound(f"API key {key_id} not found")
        return found

    # -- tokens and signing keys -------------------------------------------------------

    async def revoke_token(self, tenant_id: str, jti: str, expires_at: float) -> None:
        await self._write(
            "INSERT OR IGNORE INTO revoked_tokens (tenant_id, jti, expires_at) VALUES (?, ?, ?)",
            (tenant_id, jti, expires_at),
        )

    async def revoked_tokens(self, now: float) -> set[str]:
        rows = await self._rows("SELECT jti FROM revoked_tokens WHERE expires_at > ?", (now,))
        return {r[0] for r in rows}

    async def signing_keys(self) -> list[SigningKey]:
        rows = await self._rows(
            "SELECT kid, algorithm, secret, created_at FROM signing_keys "
            "ORDER BY created_at DESC, kid"
        )
        return [SigningKey(kid=k, algorithm=a, secret=s, created_at=c) for k, a, s, c in rows]

    # -- field encryption data keys (the DataKeyStore port) -------------------------------

    async def load(self, tenant_id: str, subject: str | None) -> list[WrappedDataKey]:
        rows = await self._rows(
            f"SELECT {_DK_COLUMNS} FROM data_keys WHERE tenant_id = ? AND subject = ?",
            (tenant_id, subject or ""),
        )
        return [_data_key(r) for r in rows]

    async def load_tenant(self, tenant_id: str) -> list[WrappedDataKey]:
        rows = await self._rows(
            f"SELECT {_DK_COLUMNS} FROM data_keys WHERE tenant_id = ?", (tenant_id,)
        )
        return [_data_key(r) for r in rows]

    async def tenant_ids(self) -> list[str]:
        rows = await self._rows("SELECT DISTINCT tenant_id FROM data_keys ORDER BY tenant_id")
        return [r[0] for r in rows]

    async def add(self, key: WrappedDataKey) -> None:
        await self._write(
            f"INSERT INTO data_keys ({_DK_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (key.tenant_id, key.subject or "", key.version, key.master_key_id, key.wrapped),
        )

    async def replace(self, keys: Sequence[WrappedDataKey]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for k in keys:
                changed = conn.execute(
                    "UPDATE data_keys SET master_key_id = ?, wrapped = ? "
                    "WHERE tenant_id = ? AND subject = ? AND version = ?",
                    (k.master_key_id, k.wrapped, k.tenant_id, k.subject or "", k.version),
                ).rowcount
                if not changed:
                    raise ConflictError(f"data key {k.key_id} of {k.tenant_id} is not stored")

        await self._db.write(run, conflict=_exists)

    async def add_signing_key(self, key: SigningKey) -> None:
        await self._write(
            "INSERT INTO signing_keys (kid, algorithm, secret, created_at) VALUES (?, ?, ?, ?)",
            (key.kid, key.algorithm, key.secret, key.created_at),
        )


def _data_key(row: tuple[Any, ...]) -> WrappedDataKey:
    tenant_id, subject, version, master_key_id, wrapped = row
    return WrappedDataKey(
        tenant_id=tenant_id, subject=subject or None, version=version,
        master_key_id=master_key_id, wrapped=None if wrapped is None else bytes(wrapped),
    )  # fmt: skip


_DK_COLUMNS = "tenant_id, subject, version, master_key_id, wrapped"


def _exists(exc: sqlite3.IntegrityError) -> ConflictError:
    return ConflictError(f"already exists: {exc}")


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def _tenant(row: tuple[Any, ...]) -> Tenant:
    return Tenant(id=row[0], name=row[1], status=row[2], created_at=row[3])


def _api_key(row: tuple[Any, ...]) -> ApiKeyRecord:
    tenant_id, id_, name, secret_hash, scopes, created_by, created_at, expires, revoked = row
    return ApiKeyRecord(
        tenant_id=tenant_id, id=id_, name=name, secret_hash=secret_hash,
        scopes=msgspec.json.decode(scopes, type=list[str]) if isinstance(scopes, str | bytes)
        else list(scopes),
        created_by=created_by, created_at=created_at, expires_at=expires, revoked_at=revoked,
    )  # fmt: skip
