"""The AccessStore Protocol: tenants, users, API keys, revoked tokens and signing keys."""

from __future__ import annotations

from typing import Protocol

from core_alerts.domain.access import ApiKeyRecord, SigningKey, Tenant, UserAccount


class AccessStore(Protocol):
    """Credentials and tenants. Secrets are stored only as hashes (keys, passwords)."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def create_tenant(self, tenant: Tenant) -> None:
        """Raise ConflictError when the id is taken."""
        ...

    async def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    async def list_tenants(self) -> list[Tenant]: ...

    async def set_tenant_status(self, tenant_id: str, status: str) -> Tenant:
        """Raise NotFound for an unknown tenant."""
        ...

    async def create_user(self, user: UserAccount) -> None:
        """Raise ConflictError when the username is taken (usernames are global)."""
        ...

    async def get_user(self, username: str) -> UserAccount | None: ...

    async def create_api_key(self, key: ApiKeyRecord) -> None: ...

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    async def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]: ...

    async def revoke_api_key(self, tenant_id: str, key_id: str, at: float) -> ApiKeyRecord:
        """Raise NotFound when the key is not in the tenant."""
        ...

    async def revoke_token(self, tenant_id: str, jti: str, expires_at: float) -> None: ...

    async def revoked_tokens(self, now: float) -> set[str]:
        """jti of revoked tokens that have not expired yet."""
        ...

    async def signing_keys(self) -> list[SigningKey]:
        """Newest first."""
        ...

    async def add_signing_key(self, key: SigningKey) -> None: ...
