"""Tokens round-trip, carry a fresh random nonce, and fail on any change to any bit."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_alerts.crypto import (
    DecryptionFailed,
    FieldCipher,
    MalformedToken,
    is_encrypted,
    key_id_of,
)
from core_alerts.domain.errors import CoreAlertsError

HEADER = "enc:v1:t1:"


def raw_of(token: str) -> bytes:
    body = token.rsplit(":", 1)[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def with_raw(token: str, raw: bytes) -> str:
    head = token.rsplit(":", 1)[0]
    return f"{head}:{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plaintext=st.text(),
    tenant=st.text(min_size=1, max_size=20),
    row_id=st.one_of(st.integers(), st.text(min_size=1, max_size=20)),
)
async def test_any_unicode_text_round_trips(
    cipher: FieldCipher, plaintext: str, tenant: str, row_id: int | str
) -> None:
    token = await cipher.encrypt(tenant, "contacts", "email", row_id, plaintext)
    assert token.isascii()
    assert is_encrypted(token)
    assert await cipher.decrypt(tenant, "contacts", "email", row_id, token) == plaintext


async def test_the_token_is_versioned_and_names_its_data_key(cipher: FieldCipher) -> None:
    token = await cipher.encrypt("acme", "contacts", "email", 1, "ops@example.com")
    assert token.startswith(HEADER)
    assert key_id_of(token) == "t1"
    assert "ops@example.com" not in token
    assert len(raw_of(token)) == 12 + len("ops@example.com") + 16  # nonce, ciphertext, tag


async def test_nonces_of_ten_thousand_encryptions_are_unique(cipher: FieldCipher) -> None:
    tokens = [await cipher.encrypt("acme", "t", "c", 1, "same value") for _ in range(10_000)]
    nonces = {raw_of(token)[:12] for token in tokens}
    assert len(nonces) == 10_000
    assert len(set(tokens)) == 10_000  # equal plaintexts do not give equal tokens


async def test_flipping_any_bit_of_nonce_ciphertext_or_tag_fails(cipher: FieldCipher) -> None:
    token = await cipher.encrypt("acme", "t", "c", 1, "secret")
    raw = raw_of(token)
    for index in range(len(raw)):  # 12 nonce bytes, 6 ciphertext bytes, 16 tag bytes
        for bit in range(8):
            changed = bytearray(raw)
            changed[index] ^= 1 << bit
            with pytest.raises(DecryptionFailed, match="does not authenticate"):
                await cipher.decrypt("acme", "t", "c", 1, with_raw(token, bytes(changed)))


async def test_flipping_any_bit_of_any_character_fails(cipher: FieldCipher) -> None:
    token = await cipher.encrypt("acme", "t", "c", 1, "secret")
    for index, char in enumerate(token):  # header, key id and body alike
        for bit in range(8):
            changed = token[:index] + chr(ord(char) ^ (1 << bit)) + token[index + 1 :]
            with pytest.raises(CoreAlertsError) as caught:
                await cipher.decrypt("acme", "t", "c", 1, changed)
            assert isinstance(caught.value, DecryptionFailed | MalformedToken)


async def test_padding_bits_and_truncation_are_refused(cipher: FieldCipher) -> None:
    token = await cipher.encrypt("acme", "t", "c", 1, "x")  # 29 bytes: 39 chars, 2 spare bits
    last = token[-1]
    index = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(last)
    alias = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[index ^ 1]
    with pytest.raises(MalformedToken, match="canonical"):
        await cipher.decrypt("acme", "t", "c", 1, token[:-1] + alias)
    with pytest.raises(MalformedToken):
        await cipher.decrypt("acme", "t", "c", 1, token + "=")
    with pytest.raises(CoreAlertsError):
        await cipher.decrypt("acme", "t", "c", 1, token[:-4])
    with pytest.raises(MalformedToken, match="too short"):
        await cipher.decrypt("acme", "t", "c", 1, HEADER + "AAAA")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("plain text", "not an encrypted token"),
        ("enc:v2:t1:AAAA", "unsupported format version"),
        ("enc:v1:t1", "form enc:v1"),
        ("enc:v1:t1:AA:AA", "form enc:v1"),
        ("enc:v1:x1:" + "A" * 40, "no valid data key id"),
        ("enc:v1:t0:" + "A" * 40, "no valid data key id"),
        ("enc:v1:t1:" + "A" * 39 + "+", "not unpadded base64url"),
    ],
)
async def test_malformed_tokens_are_refused_with_the_reason(
    cipher: FieldCipher, value: str, message: str
) -> None:
    with pytest.raises(MalformedToken, match=message):
        await cipher.decrypt("acme", "t", "c", 1, value)


def test_is_encrypted_tells_tokens_from_plaintext() -> None:
    assert is_encrypted("enc:v1:t1:abc")
    assert is_encrypted("enc:v7:anything")  # a future or damaged token is never plaintext
    assert not is_encrypted("ops@example.com")
    assert not is_encrypted("")
    assert not is_encrypted("enc:")
    assert not is_encrypted("ENC:v1:t1:abc")
