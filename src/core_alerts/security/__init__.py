"""SecurityManager: authentication (tokens, API keys, passwords), RBAC scopes, tenants.

Owns who the caller is and what it may do. Must not import other capabilities; routes
declare the scope they need and the API layer asks this package.
"""

from core_alerts.security.manager import DEFAULT_TENANT, SecurityManager
from core_alerts.security.principal import CredentialKind, Principal
from core_alerts.security.tokens import TokenClaims, TokenService
from core_alerts.security.trail import AuditTrail

__all__ = [
    "DEFAULT_TENANT",
    "AuditTrail",
    "CredentialKind",
    "Principal",
    "SecurityManager",
    "TokenClaims",
    "TokenService",
]
