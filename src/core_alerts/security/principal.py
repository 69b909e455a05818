"""Who is calling: what authentication established about a request."""

from __future__ import annotations

import enum

import msgspec

from core_alerts.domain.access import Scope


class CredentialKind(enum.StrEnum):
    TOKEN = "token"  # noqa: S105 - a kind of credential, not a secret
    API_KEY = "api_key"
    ANONYMOUS = "anonymous"
    """Authentication is switched off (security.auth_enabled: false)."""


class Principal(msgspec.Struct, kw_only=True, frozen=True):
    tenant_id: str
    subject: str
    """The user, key id or token subject; what the audit trail records as the actor."""
    scopes: frozenset[Scope]
    kind: CredentialKind
    credential_id: str = ""
    """The token's jti or the API key's id."""
    expires_at: float | None = None

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def platform_admin(self) -> bool:
        return Scope.TENANTS_ADMIN in self.scopes
