"""The master key setting: formats accepted, weak or missing keys refused, dev-mode keys."""

from __future__ import annotations

import base64
import random
import secrets

import pytest

from core_alerts.crypto import (
    GENERATE_COMMAND,
    MasterKeyNotConfigured,
    generate_master_key,
    key_weakness,
    parse_master_keys,
)
from core_alerts.domain.errors import ConfigError


def b64(raw: bytes, *, urlsafe: bool = True) -> str:
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()


def test_urlsafe_standard_and_unpadded_base64_are_accepted() -> None:
    raw = bytes.fromhex("fb" * 3) + secrets.token_bytes(29)  # forces '-'/'_' vs '+'/'/'
    for text in (b64(raw), b64(raw, urlsafe=False), b64(raw).rstrip("=")):
        assert parse_master_keys(text).active.secret == raw


def test_a_bare_key_gets_a_stable_id_derived_from_the_key() -> None:
    key = generate_master_key()
    first, again = parse_master_keys(key), parse_master_keys(f" {key} ")
    assert first.active.key_id == again.active.key_id
    assert first.active.key_id.startswith("k")
    assert parse_master_keys(generate_master_key()).active.key_id != first.active.key_id
    mixed = parse_master_keys(f"2026b:{generate_master_key()},{key}")
    assert mixed.get(first.active.key_id).secret == first.active.secret


def test_several_keys_with_ids_make_the_first_one_active() -> None:
    a, b = generate_master_key(), generate_master_key()
    ring = parse_master_keys(f"2026b:{b}, 2026a:{a}")
    assert [k.key_id for k in ring.keys] == ["2026b", "2026a"]
    assert ring.active.key_id == "2026b"
    assert not ring.ephemeral and ring.warning is None
    with pytest.raises(MasterKeyNotConfigured, match="'2025' is not configured"):
        ring.get("2025")


def test_key_material_never_shows_in_repr() -> None:
    key = generate_master_key()
    ring = parse_master_keys(f"main:{key}")
    assert key not in repr(ring)
    assert repr(ring.active.secret) not in repr(ring)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_key_is_refused_with_how_to_make_one(value: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_master_keys(value)
    assert "ALERTS_ENCRYPTION_KEY is not set" in caught.value.message
    assert GENERATE_COMMAND in caught.value.message
    assert caught.value.field == "ALERTS_ENCRYPTION_KEY"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b64(secrets.token_bytes(16)), "decodes to 16 bytes, not 32"),
        (b64(secrets.token_bytes(48)), "decodes to 48 bytes, not 32"),
        (secrets.token_hex(32), "looks like hex"),
        ("not a key!", "is not base64"),
        ("abcde", "is not base64"),
        (b64(bytes(32)), "too weak: all bytes are zero"),
        (b64(b"\x07" * 32), "too weak: all bytes are equal"),
        (b64(bytes(range(32))), "too weak: the bytes form a counting sequence"),
        (b64(bytes(range(100, 36, -2))), "too weak: the bytes form a counting sequence"),
        (b64(b"\x9f\x01\xe3" * 10 + b"\x9f\x01"), "repeats a 3-byte pattern"),
        (b64(secrets.token_bytes(16) * 2), "repeats a 16-byte pattern"),
        (b64(b"correct horse battery staple 123"), "printable text"),
        (b64((secrets.token_bytes(5) * 7)[:32]), "repeats a 5-byte pattern"),
    ],
)
def test_malformed_or_weak_keys_are_refused_with_the_reason(value: str, reason: str) -> None:
    for dev_mode in (False, True):  # dev mode forgives a missing key only
        with pytest.raises(ConfigError) as caught:
            parse_master_keys(value, dev_mode=dev_mode)
        assert reason in caught.value.message
        assert GENERATE_COMMAND in caught.value.message
        assert value not in caught.value.message


def test_low_byte_diversity_is_refused() -> None:
    rng = random.Random(7)
    raw = bytes(rng.choice(b"\x90\xa1\xb2\xc3\xd4\xe5\xf6\x87\x98\xa9") for _ in range(32))
    distinct = len(set(raw))
    assert distinct <= 10
    assert key_weakness(raw) == (
        f"it has only {distinct} distinct byte values (random keys have about 30)"
    )
    with pytest.raises(ConfigError, match=f"only {distinct} distinct byte values"):
        parse_master_keys(f"main:{b64(raw)}")


def test_random_keys_pass_every_weakness_check() -> None:
    assert all(key_weakness(secrets.token_bytes(32)) is None for _ in range(5_000))


def test_the_weak_key_is_named_by_its_id_or_position() -> None:
    good = generate_master_key()
    with pytest.raises(ConfigError, match="key 'old' is too weak"):
        parse_master_keys(f"new:{good},old:{b64(bytes(32))}")
    with pytest.raises(ConfigError, match="entry 2 is too weak"):
        parse_master_keys(f"{good},{b64(bytes(32))}")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a:{k},a:{k2}", "key id used twice: a"),
        ("a:{k},,b:{k2}", "entry 2 is empty"),
        ("bad id:{k}", "entry 1 has an invalid key id"),
        ("x" * 33 + ":{k}", "entry 1 has an invalid key id"),
        (":{k}", "entry 1 has an invalid key id"),
    ],
)
def test_the_key_list_format_is_checked(value: str, reason: str) -> None:
    text = value.format(k=generate_master_key(), k2=generate_master_key())
    with pytest.raises(ConfigError, match=reason):
        parse_master_keys(text)


def test_the_setting_name_in_messages_is_the_callers() -> None:
    with pytest.raises(ConfigError, match=r"^security\.encryption_key is not set"):
        parse_master_keys(None, setting="security.encryption_key")


@pytest.mark.parametrize("value", [None, ""])
def test_dev_mode_makes_an_ephemeral_key_and_says_so(value: str | None) -> None:
    first, second = parse_master_keys(value, dev_mode=True), parse_master_keys(value, dev_mode=True)
    assert first.ephemeral
    assert first.warning is not None
    assert "ALERTS_ENCRYPTION_KEY is not set" in first.warning
    assert "cannot be read after a restart" in first.warning
    assert first.active.key_id.startswith("dev-")
    assert len(first.active.secret) == 32
    assert key_weakness(first.active.secret) is None
    assert first.active.secret != second.active.secret
    assert first.active.key_id != second.active.key_id


def test_dev_mode_keeps_a_configured_key() -> None:
    key = generate_master_key()
    ring = parse_master_keys(f"main:{key}", dev_mode=True)
    assert not ring.ephemeral
    assert ring.active.key_id == "main"
