"""Tokens: the attacks of RFC 8725 are refused; rotation keeps old tokens valid."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from core_alerts.domain.access import Scope, SigningKey
from core_alerts.domain.errors import ConfigError, Unauthenticated
from core_alerts.security.tokens import TokenService, check_key

NOW = 1_800_000_000.0
SECRET = "s" * 20 + "0123456789abcdefghijkl"
HS = SigningKey(kid="hs1", algorithm="HS256", secret=SECRET)
SCOPES = {Scope.ALERTS_READ, Scope.ALERTS_ACK}


def service(*keys: SigningKey) -> TokenService:
    return TokenService(keys or (HS,), issuer="core-alerts", audience="core-alerts", leeway=30)


def rsa_key(kid: str = "rs1") -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return SigningKey(kid=kid, algorithm="RS256", secret=pem)


def claims(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": "core-alerts", "aud": "core-alerts", "sub": "alice", "tid": "acme",
        "scope": "alerts:read", "jti": "j1", "iat": int(NOW), "exp": int(NOW + 600),
    }  # fmt: skip
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_an_issued_token_verifies_with_its_claims() -> None:
    svc = service()
    token, issued = svc.issue("acme", "alice", SCOPES, NOW, 600)
    got = svc.verify(token, NOW + 1)
    assert got == issued
    assert got.tenant_id == "acme" and got.subject == "alice" and got.scopes == SCOPES
    assert jwt.get_unverified_header(token)["kid"] == "hs1"


def test_alg_none_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "kid": "hs1", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    with pytest.raises(Unauthenticated, match="HS256"):
        service().verify(f"{header}.{body}.", NOW)


def test_hs256_signed_with_the_rsa_public_key_is_refused() -> None:
    """Algorithm confusion: the attacker uses the public key as an HMAC secret."""
    key = rsa_key()
    public_pem = (
        serialization.load_pem_private_key(key.secret.encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = b64(json.dumps({"alg": "HS256", "kid": "rs1", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    import hashlib
    import hmac

    sig = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthenticated, match="RS256"):
        service(key).verify(f"{header}.{body}.{b64(sig)}", NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": int(NOW - 3600)}, "expired"),
        ({"aud": "someone-else"}, "(?i)audience"),
        ({"iss": "evil"}, "(?i)issuer"),
        ({"jti": None}, "jti"),
        ({"exp": None}, "exp"),
        ({"iat": int(NOW + 3600)}, "future"),
        ({"tid": None}, "tenant"),
        ({"scope": "alerts:read root"}, "scope"),
    ],
)
def test_bad_claims_are_refused(change: dict[str, object], reason: str) -> None:
    token = jwt.encode(claims(**change), SECRET, algorithm="HS256", headers={"kid": "hs1"})
    with pytest.raises(Unauthenticated, match=reason):
        service().verify(token, NOW)


def test_unknown_or_missing_kid_and_wrong_secret_are_refused() -> None:
    unknown = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "nope"})
    missing = jwt.encode(claims(), SECRET, algorithm="HS256")
    forged = jwt.encode(claims(), "x" * 40, algorithm="HS256", headers={"kid": "hs1"})
    for token in (unknown, missing):
        with pytest.raises(Unauthenticated, match="kid"):
            service().verify(token, NOW)
    with pytest.raises(Unauthenticated, match="not valid"):
        service().verify(forged, NOW)


def test_an_oversized_token_is_refused_before_parsing() -> None:
    with pytest.raises(Unauthenticated, match="longer than"):
        service().verify("a" * 10_000, NOW)


def test_jku_and_x5u_headers_are_never_fetched() -> None:
    """A token pointing at the attacker's key set: refused, and nobody calls the address."""
    canary = socket.socket()
    canary.bind(("127.0.0.1", 0))
    canary.listen()
    canary.settimeout(0.2)
    url = f"http://127.0.0.1:{canary.getsockname()[1]}/jwks.json"
    connections: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):  # the timeout: nobody came
            connections.append(canary.accept())

    watcher = threading.Thread(target=accept)
    watcher.start()
    token = jwt.encode(
        claims(), "x" * 40, algorithm="HS256", headers={"kid": "evil", "jku": url, "x5u": url}
    )
    with pytest.raises(Unauthenticated):
        service().verify(token, NOW)
    watcher.join()
    canary.close()
    assert connections == []


def test_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key() -> None:
    old_token, _ = service().issue("acme", "alice", SCOPES, NOW, 600)
    new_key = SigningKey(kid="hs2", algorithm="HS256", secret="n" * 48)
    rotated = service(new_key, HS)
    assert rotated.verify(old_token, NOW).subject == "alice"
    new_token, _ = rotated.issue("acme", "bob", SCOPES, NOW, 600)
    assert jwt.get_unverified_header(new_token)["kid"] == "hs2"
    with pytest.raises(Unauthenticated):
        service().verify(new_token, NOW)  # the old set does not know hs2


def test_rs256_and_eddsa_keys_sign_and_verify() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_pem = ed.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    for key in (rsa_key(), SigningKey(kid="ed1", algorithm="EdDSA", secret=ed_pem)):
        svc = service(key)
        token, _ = svc.issue("acme", "alice", SCOPES, NOW, 600)
        assert svc.verify(token, NOW).subject == "alice"


def test_weak_or_unknown_keys_are_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        check_key(SigningKey(kid="k", algorithm="HS256", secret="short"))
    check_key(SigningKey(kid="k", algorithm="HS256", secret="short"), dev_mode=True)
    with pytest.raises(ConfigError, match="not allowed"):
        check_key(SigningKey(kid="k", algorithm="none", secret="x" * 40))
