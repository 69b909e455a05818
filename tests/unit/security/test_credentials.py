"""API keys and passwords: formats, hashing, constant-time checks, and the login throttle."""

from __future__ import annotations

import pytest

from core_alerts.domain.errors import RateLimited, ValidationFailed
from core_alerts.security.apikeys import (
    hash_secret,
    new_api_key,
    secret_matches,
    split_api_key,
)
from core_alerts.security.passwords import LoginThrottle, hash_password, verify_password


def test_an_api_key_splits_into_its_id_and_a_secret_kept_only_as_a_hash() -> None:
    key_id, full, stored = new_api_key()
    parts = split_api_key(full)
    assert parts is not None
    assert parts[0] == key_id
    assert stored == hash_secret(parts[1]) and parts[1] not in stored
    assert secret_matches(parts[1], stored)
    assert not secret_matches(parts[1] + "x", stored)
    assert new_api_key()[1] != full


@pytest.mark.parametrize(
    "value", ["", "cak_", "cak_short_x", "xyz_0123456789abcdef_s", "cak_0123456789abcdef_"]
)
def test_malformed_keys_do_not_split(value: str) -> None:
    assert split_api_key(value) is None


def test_passwords_are_argon2id_and_checked() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterz", stored)
    assert not verify_password("anything at all", None)
    with pytest.raises(ValidationFailed, match="at least 12"):
        hash_password("short")


def test_the_throttle_doubles_the_wait_after_the_free_failures() -> None:
    throttle = LoginThrottle(free=3, base=1.0, cap=10.0)
    keys = ["user:bob", "addr:10.0.0.1"]
    now = 1000.0
    for _ in range(3):
        throttle.check(keys, now)
        throttle.failed(keys, now)
    throttle.check(keys, now)  # three free failures: not blocked yet
    throttle.failed(keys, now)  # the fourth: 1 s
    with pytest.raises(RateLimited) as blocked:
        throttle.check(keys, now)
    assert blocked.value.retry_after == pytest.approx(1.0)
    throttle.check(keys, now + 1.0)
    throttle.failed(keys, now + 1.0)  # the fifth: 2 s
    with pytest.raises(RateLimited):
        throttle.check(["addr:10.0.0.1"], now + 2.5)  # the address is blocked too
    throttle.check(["addr:10.0.0.1"], now + 3.0)
    for i in range(10):
        throttle.failed(keys, now + 3.0 + i)
    with pytest.raises(RateLimited) as capped:
        throttle.check(keys, now + 12.0)
    assert capped.value.retry_after <= 10.0
    throttle.succeeded("user:bob")
    throttle.check(["user:bob"], now + 12.0)
