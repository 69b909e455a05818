"""API keys for senders and scripts: `cak_<id>_<secret>`, shown once, kept as a hash.

The secret has 256 random bits, so a fast hash (SHA-256) is enough at rest: there is nothing
to brute-force. The id is public and finds the key; the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "cak_"


def new_api_key() -> tuple[str, str, str]:
    """(key id, full key to show once, hash of the secret to store)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{PREFIX}{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(value: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    if not value.startswith(PREFIX):
        return None
    key_id, sep, secret = value[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
