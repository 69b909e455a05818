"""Signed access tokens (JWT), verified the way RFC 8725 asks.

Each key pins its algorithm, and a token is checked only with the key its `kid` names and
only with that key's algorithm, so `alg: none` and HS/RS confusion cannot pass. `exp`, `iat`,
`iss`, `aud`, `sub`, `jti` and the tenant are required; headers that point at other keys
(`jku`, `x5u`, `jwk`, `x5c`) are never followed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import jwt
import msgspec

from core_alerts.domain.access import Scope, SigningKey, parse_scopes
from core_alerts.domain.errors import ConfigError, Unauthenticated

ALGORITHMS = ("HS256", "RS256", "EdDSA")
MAX_TOKEN_BYTES = 8192
MIN_HS256_SECRET = 32  # RFC 7518 3.2: at least the hash size


class TokenClaims(msgspec.Struct, kw_only=True, frozen=True):
    tenant_id: str
    subject: str
    scopes: frozenset[Scope]
    jti: str
    issued_at: float
    expires_at: float


def check_key(key: SigningKey, *, dev_mode: bool = False) -> None:
    """Refuse a key that cannot be used safely; the message names the key and the fix."""
    if key.algorithm not in ALGORITHMS:
        raise ConfigError(
            f"signing key {key.kid!r}: algorithm {key.algorithm!r} is not allowed; "
            f"use one of {', '.join(ALGORITHMS)}"
        )
    if key.algorithm == "HS256" and len(key.secret.encode()) < MIN_HS256_SECRET and not dev_mode:
        raise ConfigError(
            f"signing key {key.kid!r}: an HS256 secret needs at least {MIN_HS256_SECRET} bytes "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )


def new_hs256_key(now: float) -> SigningKey:
    return SigningKey(
        kid=secrets.token_hex(8), algorithm="HS256", secret=secrets.token_urlsafe(48),
        created_at=now,
    )  # fmt: skip


class TokenService:
    """Issues tokens with the first key; verifies with any key it knows by `kid`."""

    def __init__(
        self,
        keys: Iterable[SigningKey],
        *,
        issuer: str,
        audience: str,
        leeway: float,
    ) -> None:
        self._keys = {k.kid: k for k in keys}
        if not self._keys:
            raise ConfigError("no token signing key is configured")
        self._active = next(iter(self._keys.values()))
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    @property
    def active_kid(self) -> str:
        return self._active.kid

    def issue(
        self, tenant_id: str, subject: str, scopes: Iterable[Scope], now: float, ttl: float
    ) -> tuple[str, TokenClaims]:
        claims = TokenClaims(
            tenant_id=tenant_id,
            subject=subject,
            scopes=frozenset(scopes),
            jti=secrets.token_urlsafe(16),
            issued_at=int(now),
            expires_at=int(now + ttl),
        )
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "tid": tenant_id,
            "scope": " ".join(sorted(claims.scopes)),
            "jti": claims.jti,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
        }
        key = self._active
        token = jwt.encode(
            payload, key.secret, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"}
        )
        return token, claims

    def verify(self, token: str, now: float) -> TokenClaims:
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated(f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not a well-formed JWT") from None
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("the token's key id (kid) is missing or unknown")
        if header.get("alg") != key.algorithm:
            raise Unauthenticated(f"the token must be signed with {key.algorithm}")
        try:
            claims = jwt.decode(
                token,
                _verifying_key(key),
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                # Times are checked below against the injected clock, not the library's.
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the token is not valid: {exc}") from None
        self._check_times(claims, now)
        tenant_id = claims.get("tid")
        scope = claims.get("scope", "")
        if not isinstance(tenant_id, str) or not tenant_id or not isinstance(scope, str):
            raise Unauthenticated("the token has no tenant (tid) or a malformed scope claim")
        try:
            scopes = parse_scopes(scope.split())
        except ValueError as exc:
            raise Unauthenticated(f"the token's scope claim is invalid: {exc}") from None
        return TokenClaims(
            tenant_id=tenant_id,
            subject=str(claims["sub"]),
            scopes=scopes,
            jti=str(claims["jti"]),
            issued_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
        )

    def _check_times(self, claims: dict[str, Any], now: float) -> None:
        times = [claims.get(c) for c in ("exp", "iat", "nbf")]
        if not all(isinstance(t, int | float) for t in times[:2]) or not isinstance(
            times[2], int | float | None
        ):
            raise Unauthenticated("the token's exp, iat and nbf must be numbers")
        exp, iat, nbf = times
        if exp <= now - self._leeway:  # type: ignore[operator]
            raise Unauthenticated("the token has expired")
        if iat > now + self._leeway or (nbf is not None and nbf > now + self._leeway):  # type: ignore[operator]
            raise Unauthenticated("the token was issued in the future or is not valid yet")


def _verifying_key(key: SigningKey) -> Any:
    """HS256: the secret. RS256/EdDSA: the public key of the stored private (or public) PEM."""
    if key.algorithm == "HS256":
        return key.secret
    from cryptography.hazmat.primitives import serialization

    pem = key.secret.encode()
    if b"PRIVATE KEY" in pem:
        return serialization.load_pem_private_key(pem, password=None).public_key()
    return serialization.load_pem_public_key(pem)
