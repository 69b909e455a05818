"""Who may do what: tenants, users, API keys, signing keys, and the roles and scopes of RBAC.

Pure values and rules; the SecurityManager (security/) authenticates and the stores keep them.
"""

from __future__ import annotations

import enum

import msgspec


class Scope(enum.StrEnum):
    """One permission. Every API route declares the scope it needs."""

    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"
    ALERTS_ACK = "alerts:ack"
    CONFIG_READ = "config:read"
    CONFIG_WRITE = "config:write"
    SILENCES_WRITE = "silences:write"
    REMEDIATION_EXECUTE = "remediation:execute"
    AUDIT_READ = "audit:read"
    KEYS_WRITE = "keys:write"
    USERS_WRITE = "users:write"
    METRICS_READ = "metrics:read"
    PRIVACY_ADMIN = "privacy:admin"
    """Export or erase everything about a data subject (GDPR)."""
    TENANTS_ADMIN = "tenants:admin"
    """Platform scope: create, list and disable tenants, and act in any tenant."""


class Role(enum.StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"
    INGEST = "ingest"
    """For senders (Prometheus, Grafana, webhooks): post alerts, nothing else."""
    PLATFORM_ADMIN = "platform-admin"


_VIEWER = frozenset({Scope.ALERTS_READ, Scope.CONFIG_READ})
_RESPONDER = _VIEWER | {Scope.ALERTS_WRITE, Scope.ALERTS_ACK, Scope.SILENCES_WRITE}
_ADMIN = _RESPONDER | {
    Scope.CONFIG_WRITE,
    Scope.REMEDIATION_EXECUTE,
    Scope.AUDIT_READ,
    Scope.KEYS_WRITE,
    Scope.USERS_WRITE,
    Scope.METRICS_READ,
    Scope.PRIVACY_ADMIN,
}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: _VIEWER,
    Role.RESPONDER: _RESPONDER,
    Role.ADMIN: _ADMIN,
    Role.INGEST: frozenset({Scope.ALERTS_WRITE}),
    Role.PLATFORM_ADMIN: _ADMIN | {Scope.TENANTS_ADMIN},
}


def parse_scopes(values: list[str]) -> frozenset[Scope]:
    """Scope names -> Scopes; raises ValueError naming the unknown ones and the allowed ones."""
    known = {s.value: s for s in Scope}
    unknown = sorted(v for v in values if v not in known)
    if unknown:
        allowed = ", ".join(s.value for s in Scope)
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; allowed: {allowed}")
    return frozenset(known[v] for v in values)


def grantable(granter: frozenset[Scope], wanted: frozenset[Scope]) -> frozenset[Scope]:
    """The scopes of `wanted` the granter does not hold itself (empty: it may grant them).

    A credential can never hold more than whoever created it.
    """
    return frozenset(wanted - granter)


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Tenant(msgspec.Struct, kw_only=True):
    id: str
    name: str
    status: str = TenantStatus.ACTIVE.value
    created_at: float = 0.0


class UserAccount(msgspec.Struct, kw_only=True):
    tenant_id: str
    id: str
    username: str
    password_hash: str
    role: str
    created_at: float
    disabled: bool = False


class ApiKeyRecord(msgspec.Struct, kw_only=True):
    """An API key as stored: the secret only as a hash; shown once when created."""

    tenant_id: str
    id: str
    """Public part of the key, used to find it; not a secret."""
    name: str
    secret_hash: str
    scopes: list[str]
    created_by: str
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None

    def usable(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class SigningKey(msgspec.Struct, kw_only=True, frozen=True):
    """A key that signs (or only verifies) tokens; `kid` is in every token's header."""

    kid: str
    algorithm: str
    secret: str
    """HS256: the shared secret. RS256/EdDSA: the PEM private key (or public key to verify only)."""
    created_at: float = 0.0
