"""User passwords (argon2id) and the login throttle that makes guessing them slow."""

from __future__ import annotations

import math

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core_alerts.domain.errors import RateLimited, ValidationFailed

MIN_PASSWORD = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# A hash to verify against when the user does not exist, so the answer takes as long.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"a password needs at least {MIN_PASSWORD} characters", field="password"
        )
    return _hasher.hash(password)


def verify_password(password: str, stored_hash: str | None) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class LoginThrottle:
    """Failed logins per username and per client address. After `free` failures each further
    one doubles the wait (from `base` seconds, up to `cap`); a success clears the username."""

    def __init__(self, *, free: int = 5, base: float = 1.0, cap: float = 900.0) -> None:
        self._free = free
        self._base = base
        self._cap = cap
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (count, blocked until)

    def check(self, keys: list[str], now: float) -> None:
        wait = max((self._failures.get(k, (0, 0.0))[1] - now for k in keys), default=0.0)
        if wait > 0:
            raise RateLimited(
                f"too many failed logins; retry in {math.ceil(wait)} s", retry_after=wait
            )

    def failed(self, keys: list[str], now: float) -> None:
        if len(self._failures) > 100_000:  # bounded memory under a spray of usernames
            self._failures = {k: v for k, v in self._failures.items() if v[1] > now}
        for key in keys:
            count = self._failures.get(key, (0, 0.0))[0] + 1
            over = count - self._free
            until = now + min(self._cap, self._base * 2 ** (over - 1)) if over > 0 else 0.0
            self._failures[key] = (count, until)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
