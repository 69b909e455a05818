"""SecurityManager: who the caller is (tokens, API keys, passwords) and what it may do."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from core_alerts.config import SecuritySettings
from core_alerts.domain.access import (
    ROLE_SCOPES,
    ApiKeyRecord,
    Role,
    Scope,
    SigningKey,
    Tenant,
    TenantStatus,
    UserAccount,
    grantable,
)
from core_alerts.domain.audit import AuditDraft, AuditOutcome, DetailValue
from core_alerts.domain.clock import Clock
from core_alerts.domain.errors import (
    ConfigError,
    Forbidden,
    Unauthenticated,
    ValidationFailed,
)
from core_alerts.security.apikeys import new_api_key, secret_matches, split_api_key
from core_alerts.security.passwords import LoginThrottle, hash_password, verify_password
from core_alerts.security.principal import CredentialKind, Principal
from core_alerts.security.ratelimit import RateLimiter
from core_alerts.security.tokens import TokenClaims, TokenService, check_key, new_hs256_key
from core_alerts.security.trail import AuditTrail
from core_alerts.store import AccessStore
from core_alerts.store.buckets import LocalBuckets, TokenBuckets

TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_TENANT = "default"
_ALL_SCOPES = frozenset(Scope)


class SecurityManager:
    def __init__(
        self,
        settings: SecuritySettings,
        store: AccessStore,
        clock: Clock,
        *,
        trail: AuditTrail | None = None,
        buckets: TokenBuckets | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.trail = trail
        """The audit trail; None when security.audit_enabled is off."""
        self._tokens: TokenService | None = None
        self._throttle = LoginThrottle(free=settings.login_free_failures)
        self.buckets = buckets or LocalBuckets()
        self._tenant_limits = RateLimiter(
            self.buckets, "tenant", settings.tenant_rate_limit, settings.tenant_burst
        )
        self._credential_limits = RateLimiter(
            self.buckets, "credential", settings.credential_rate_limit, settings.credential_burst
        )
        self._keys: dict[str, tuple[ApiKeyRecord | None, float]] = {}
        self._tenants: dict[str, tuple[Tenant | None, float]] = {}
        self._revoked: tuple[set[str], float] = (set(), float("-inf"))

    @property
    def enabled(self) -> bool:
        return bool(self.settings.auth_enabled)

    async def open(self) -> None:
        await self.store.open()
        keys = [*_configured_keys(self.settings), *await self.store.signing_keys()]
        if not keys:  # nothing configured: one key, generated once, kept in the database
            key = new_hs256_key(self.clock.now())
            await self.store.add_signing_key(key)
            keys = [key]
        for key in keys:
            check_key(key, dev_mode=self.settings.dev_mode)
        s = self.settings
        self._tokens = TokenService(
            keys, issuer=s.jwt_issuer, audience=s.jwt_audience, leeway=s.jwt_leeway
        )
        if await self.store.get_tenant(DEFAULT_TENANT) is None:
            await self.create_tenant(DEFAULT_TENANT, "Default tenant")
        if self.trail is not None:
            await self.trail.open()

    async def close(self) -> None:
        if self.trail is not None:
            await self.trail.close()
        await self.store.close()
        await self.buckets.close()

    def audit(
        self,
        tenant_id: str,
        actor: str,
        action: str,
        *,
        target_type: str = "",
        target_id: str = "",
        outcome: AuditOutcome = "ok",
        details: dict[str, DetailValue] | None = None,
    ) -> None:
        """Record an event in the tenant's audit chain (no-op when the trail is off)."""
        if self.trail is not None:
            self.trail.record(
                tenant_id,
                AuditDraft(
                    actor=actor[:256], action=action, target_type=target_type,
                    target_id=target_id[:256], outcome=outcome, details=details or {},
                ),
            )  # fmt: skip

    @property
    def tokens(self) -> TokenService:
        if self._tokens is None:
            raise ConfigError("the security manager is not open")
        return self._tokens

    # -- authentication ----------------------------------------------------------------

    def anonymous(self, tenant_id: str) -> Principal:
        """The caller when authentication is off: every scope, in the tenant it names."""
        return Principal(
            tenant_id=tenant_id, subject="anonymous", scopes=_ALL_SCOPES,
            kind=CredentialKind.ANONYMOUS,
        )  # fmt: skip

    async def authenticate(self, authorization: str | None) -> Principal:
        """`Authorization: Bearer <token or API key>` or `Basic <any user>:<API key>`."""
        if not authorization:
            raise Unauthenticated(
                "credentials required: send Authorization: Bearer <token or API key>"
            )
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            value = _basic_password(value)
        elif scheme.lower() != "bearer" or not value:
            raise Unauthenticated("use the Bearer or Basic authorization scheme")
        parts = split_api_key(value)
        if parts is not None:
            return await self._with_api_key(*parts)
        if scheme.lower() == "basic":
            raise Unauthenticated("Basic authentication takes an API key as the password")
        return await self._with_token(value)

    async def _with_token(self, token: str) -> Principal:
        now = self.clock.now()
        claims = self.tokens.verify(token, now)
        if claims.jti in await self._revoked_set(now):
            raise Unauthenticated("the token has been revoked")
        await self._require_active(claims.tenant_id)
        return Principal(
            tenant_id=claims.tenant_id, subject=claims.subject, scopes=claims.scopes,
            kind=CredentialKind.TOKEN, credential_id=claims.jti, expires_at=claims.expires_at,
        )  # fmt: skip

    async def _with_api_key(self, key_id: str, secret: str) -> Principal:
        now = self.clock.now()
        record = await self._api_key(key_id, now)
        if record is None or not secret_matches(secret, record.secret_hash):
            raise Unauthenticated("the API key is not valid")
        if not record.usable(now):
            raise Unauthenticated("the API key has expired or has been revoked")
        await self._require_active(record.tenant_id)
        return Principal(
            tenant_id=record.tenant_id, subject=f"key:{record.name}",
            scopes=frozenset(Scope(s) for s in record.scopes), kind=CredentialKind.API_KEY,
            credential_id=record.id, expires_at=record.expires_at,
        )  # fmt: skip

    async def login(self, username: str, password: str, client: str) -> tuple[str, TokenClaims]:
        now = self.clock.now()
        throttle_keys = [f"user:{username}", f"addr:{client}"]
        self._throttle.check(throttle_keys, now)
        user = await self.store.get_user(username)
        ok = verify_password(password, user.password_hash if user else None)
        if not ok or user is None or user.disabled:
            self._throttle.failed(throttle_keys, now)
            tenant = user.tenant_id if user is not None else DEFAULT_TENANT
            self.audit(tenant, username, "auth.login", outcome="denied", details={"client": client})
            raise Unauthenticated("unknown user or wrong password")
        await self._require_active(user.tenant_id)
        self._throttle.succeeded(f"user:{username}")
        self.audit(user.tenant_id, username, "auth.login", details={"client": client})
        scopes = ROLE_SCOPES[Role(user.role)]
        return self.tokens.issue(
            user.tenant_id, user.username, scopes, now, self.settings.token_ttl
        )

    async def limit(self, principal: Principal, tenant_id: str) -> None:
        """Count one request against the tenant's and the credential's limits (429 when over)."""
        now = self.clock.now()
        await self._tenant_limits.take(tenant_id, now, f"tenant {tenant_id}")
        if principal.credential_id:
            await self._credential_limits.take(principal.credential_id, now, "this credential")

    # -- credentials -------------------------------------------------------------------

    def issue_token(
        self, tenant_id: str, subject: str, scopes: Iterable[Scope], ttl: float | None = None
    ) -> tuple[str, TokenClaims]:
        ttl = self._ttl(ttl if ttl is not None else self.settings.token_ttl)
        return self.tokens.issue(tenant_id, subject, scopes, self.clock.now(), ttl)

    def admin_token(self) -> str:
        """A platform-admin token, printed once when the server starts."""
        token, _ = self.issue_token(
            DEFAULT_TENANT, "admin", ROLE_SCOPES[Role.PLATFORM_ADMIN], self.settings.admin_token_ttl
        )
        return token

    async def revoke_token(self, caller: Principal, jti: str, expires_at: float | None) -> None:
        until = expires_at or self.clock.now() + self.settings.max_token_ttl
        await self.store.revoke_token(caller.tenant_id, jti, until)
        self._revoked[0].add(jti)

    async def create_api_key(
        self,
        caller: Principal,
        tenant_id: str,
        name: str,
        scopes: frozenset[Scope],
        ttl: float | None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key (returned in full only here); it cannot hold more than its creator."""
        self._check_grant(caller, scopes)
        if not name or len(name) > 64:
            raise ValidationFailed("an API key needs a name of 1 to 64 characters", field="name")
        now = self.clock.now()
        key_id, full_key, secret_hash = new_api_key()
        record = ApiKeyRecord(
            tenant_id=tenant_id, id=key_id, name=name, secret_hash=secret_hash,
            scopes=sorted(scopes), created_by=caller.subject, created_at=now,
            expires_at=now + self._ttl(ttl) if ttl is not None else None,
        )  # fmt: skip
        await self.store.create_api_key(record)
        return record, full_key

    async def revoke_api_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord:
        record = await self.store.revoke_api_key(tenant_id, key_id, self.clock.now())
        self._keys[key_id] = (record, self.clock.now())
        return record

    async def create_user(
        self, caller: Principal, tenant_id: str, username: str, password: str, role: Role
    ) -> UserAccount:
        self._check_grant(caller, ROLE_SCOPES[role])
        if not TENANT_ID.match(username):
            raise ValidationFailed(
                "a username is 1-64 letters, digits, '_', '.', '-'", field="username"
            )
        user = UserAccount(
            tenant_id=tenant_id, id=secrets.token_hex(8), username=username,
            password_hash=hash_password(password), role=role.value, created_at=self.clock.now(),
        )  # fmt: skip
        await self.store.create_user(user)
        return user

    def _check_grant(self, caller: Principal, wanted: frozenset[Scope]) -> None:
        missing = grantable(caller.scopes, wanted)
        if missing:
            names = ", ".join(sorted(missing))
            raise Forbidden(f"you cannot grant scopes you do not hold: {names}")

    def _ttl(self, ttl: float) -> float:
        if not 0 < ttl <= self.settings.max_token_ttl:
            raise ValidationFailed(
                f"ttl must be between 1 s and {int(self.settings.max_token_ttl)} s", field="ttl"
            )
        return ttl

    # -- tenants -----------------------------------------------------------------------

    async def create_tenant(self, tenant_id: str, name: str) -> Tenant:
        if not TENANT_ID.match(tenant_id):
            raise ValidationFailed("a tenant id is 1-64 letters, digits, '_', '.', '-'", field="id")
        tenant = Tenant(id=tenant_id, name=name or tenant_id, created_at=self.clock.now())
        await self.store.create_tenant(tenant)
        self._tenants[tenant_id] = (tenant, self.clock.now())
        return tenant

    async def set_tenant_status(self, tenant_id: str, status: TenantStatus) -> Tenant:
        tenant = await self.store.set_tenant_status(tenant_id, status.value)
        self._tenants[tenant_id] = (tenant, self.clock.now())
        return tenant

    async def tenant(self, tenant_id: str) -> Tenant | None:
        now = self.clock.now()
        cached = self._tenants.get(tenant_id)
        if cached is not None and now - cached[1] < self.settings.credential_cache:
            return cached[0]
        found = await self.store.get_tenant(tenant_id)
        self._tenants[tenant_id] = (found, now)
        return found

    async def _require_active(self, tenant_id: str) -> None:
        tenant = await self.tenant(tenant_id)
        if tenant is None or tenant.status != TenantStatus.ACTIVE:
            raise Unauthenticated(f"tenant {tenant_id} is disabled or does not exist")

    async def _api_key(self, key_id: str, now: float) -> ApiKeyRecord | None:
        cached = self._keys.get(key_id)
        if cached is not None and now - cached[1] < self.settings.credential_cache:
            return cached[0]
        found = await self.store.get_api_key(key_id)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[key_id] = (found, now)
        return found

    async def _revoked_set(self, now: float) -> set[str]:
        if now - self._revoked[1] >= self.settings.credential_cache:
            self._revoked = (await self.store.revoked_tokens(now), now)
        return self._revoked[0]


def _basic_password(value: str) -> str:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("the Basic credentials are not valid base64 UTF-8") from None
    return decoded.partition(":")[2]


def _configured_keys(s: SecuritySettings) -> list[SigningKey]:
    keys = []
    if s.jwt_secret:
        keys.append(SigningKey(kid="config", algorithm="HS256", secret=s.jwt_secret))
    for k in s.jwt_keys:
        if k.algorithm == "HS256":
            if not k.secret:
                raise ConfigError(f"security.jwt_keys[{k.kid}]: HS256 needs `secret`")
            keys.append(SigningKey(kid=k.kid, algorithm="HS256", secret=k.secret))
            continue
        if not k.key_file:
            raise ConfigError(f"security.jwt_keys[{k.kid}]: {k.algorithm} needs `key_file`")
        try:
            pem = Path(k.key_file).read_text(encoding="ascii")
        except OSError as exc:
            raise ConfigError(f"security.jwt_keys[{k.kid}]: cannot read key_file: {exc}") from None
        keys.append(SigningKey(kid=k.kid, algorithm=k.algorithm, secret=pem))
    return keys
