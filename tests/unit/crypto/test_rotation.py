"""Rotation: old data keys and old master keys keep decrypting; re-encryption empties them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import pytest

from core_alerts.crypto import (
    DataKeyStore,
    FieldCipher,
    FieldRef,
    InMemoryDataKeyStore,
    KeyUsage,
    MalformedToken,
    MasterKeyNotConfigured,
    MasterKeyring,
    WrappedDataKey,
    generate_master_key,
    key_id_of,
    parse_master_keys,
)
from core_alerts.crypto.wrapping import new_data_key, wrap
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import ConflictError


async def rows_of(table: Iterable[tuple[FieldRef, str]]) -> AsyncIterator[tuple[FieldRef, str]]:
    for row in table:
        yield row


async def write_rows(cipher: FieldCipher, count: int, tenant: str = "acme") -> dict[FieldRef, str]:
    table: dict[FieldRef, str] = {}
    for n in range(count):
        ref = FieldRef(tenant, "contacts", "email", n)
        table[ref] = await cipher.encrypt_field(ref, f"user{n}@example.com")
    return table


async def test_after_data_key_rotation_old_tokens_decrypt_and_new_ones_use_the_new_key(
    cipher: FieldCipher,
) -> None:
    old = await cipher.encrypt("acme", "t", "c", 1, "before")
    assert await cipher.data_keys.rotate("acme") == "t2"
    new = await cipher.encrypt("acme", "t", "c", 1, "after")
    assert (key_id_of(old), key_id_of(new)) == ("t1", "t2")
    assert await cipher.decrypt("acme", "t", "c", 1, old) == "before"
    assert await cipher.decrypt("acme", "t", "c", 1, new) == "after"
    assert await cipher.data_keys.active_key_id("acme") == "t2"
    assert await cipher.data_keys.active_key_id("globex") is None  # rotation is per tenant


async def test_reencryption_leaves_zero_tokens_on_the_old_key(cipher: FieldCipher) -> None:
    table = await write_rows(cipher, 50)
    await cipher.data_keys.rotate("acme")
    table[FieldRef("acme", "contacts", "email", 999)] = await cipher.encrypt(
        "acme", "contacts", "email", 999, "new@example.com"
    )
    assert await cipher.key_usage(rows_of(table.items())) == KeyUsage(active=1, old=50)

    async for ref, token in cipher.reencrypt(rows_of(table.items())):
        assert key_id_of(token) == "t2"
        table[ref] = token

    assert await cipher.key_usage(rows_of(table.items())) == KeyUsage(active=51, old=0)
    for ref, token in table.items():
        assert (await cipher.decrypt_field(ref, token)).endswith("@example.com")


async def test_reencryption_yields_only_values_not_on_the_active_key(cipher: FieldCipher) -> None:
    table = await write_rows(cipher, 3)
    changed = [ref async for ref, _ in cipher.reencrypt(rows_of(table.items()))]
    assert changed == []


async def test_plaintext_from_before_encryption_is_migrated_only_when_asked(
    cipher: FieldCipher,
) -> None:
    table = {FieldRef("acme", "contacts", "email", 1): "legacy@example.com"}
    assert await cipher.key_usage(rows_of(table.items())) == KeyUsage(plaintext=1)
    with pytest.raises(MalformedToken, match="is not encrypted"):
        _ = [row async for row in cipher.reencrypt(rows_of(table.items()))]
    async for ref, token in cipher.reencrypt(rows_of(table.items()), encrypt_plaintext=True):
        table[ref] = token
    assert await cipher.key_usage(rows_of(table.items())) == KeyUsage(active=1)
    ref, token = next(iter(table.items()))
    assert await cipher.decrypt_field(ref, token) == "legacy@example.com"


async def test_master_key_rotation_old_master_decrypts_until_rewrap_then_is_not_needed(
    store: InMemoryDataKeyStore, clock: FixedClock
) -> None:
    old_key, new_key = generate_master_key(), generate_master_key()
    before = FieldCipher(parse_master_keys(f"2026a:{old_key}"), store, clock=clock)
    table = await write_rows(before, 5, "acme") | await write_rows(before, 5, "globex")
    subject_token = await before.encrypt("acme", "t", "c", 1, "v", subject="person-1")

    # New key first: existing data keys still unwrap with the old one, new ones use the new.
    during = FieldCipher(parse_master_keys(f"2026b:{new_key},2026a:{old_key}"), store, clock=clock)
    await during.encrypt("initech", "t", "c", 1, "v")
    assert await during.data_keys.count_by_master_key() == {"2026a": 3, "2026b": 1}
    for ref, token in table.items():
        assert (await during.decrypt_field(ref, token)).endswith("@example.com")

    assert await during.data_keys.rewrap_all() == 3
    assert await during.data_keys.count_by_master_key() == {"2026b": 4}
    assert await during.data_keys.rewrap_all() == 0

    after = FieldCipher(parse_master_keys(f"2026b:{new_key}"), store, clock=clock)
    for ref, token in table.items():
        assert (await after.decrypt_field(ref, token)).endswith("@example.com")
    assert await after.decrypt("acme", "t", "c", 1, subject_token, subject="person-1") == "v"


async def test_dropping_the_old_master_key_before_rewrap_is_a_clear_config_error(
    store: InMemoryDataKeyStore, clock: FixedClock
) -> None:
    before = FieldCipher(parse_master_keys(f"2026a:{generate_master_key()}"), store, clock=clock)
    token = await before.encrypt("acme", "t", "c", 1, "v")
    after = FieldCipher(parse_master_keys(f"2026b:{generate_master_key()}"), store, clock=clock)
    with pytest.raises(MasterKeyNotConfigured, match="'2026a' is not configured"):
        await after.decrypt("acme", "t", "c", 1, token)
    with pytest.raises(MasterKeyNotConfigured):
        await after.data_keys.rewrap_all()


async def test_another_process_sees_a_rotation_after_the_cache_ttl_or_forget(
    keyring: MasterKeyring, store: DataKeyStore, clock: FixedClock
) -> None:
    one = FieldCipher(keyring, store, clock=clock, cache_ttl=60)
    two = FieldCipher(keyring, store, clock=clock, cache_ttl=60)
    await two.encrypt("acme", "t", "c", 1, "v")
    await one.data_keys.rotate("acme")

    # A token on a version `two` has not seen yet makes it reload at once.
    assert await two.decrypt("acme", "t", "c", 1, await one.encrypt("acme", "t", "c", 1, "x"))
    two.data_keys.forget("acme")
    assert key_id_of(await two.encrypt("acme", "t", "c", 1, "v")) == "t2"

    await one.data_keys.rotate("acme")
    assert key_id_of(await two.encrypt("acme", "t", "c", 1, "v")) == "t2"  # cached
    clock.advance(60)
    assert key_id_of(await two.encrypt("acme", "t", "c", 1, "v")) == "t3"


class RacingStore(InMemoryDataKeyStore):
    """Another process adds each new version, with its own key, just before this one."""

    def __init__(self, keyring: MasterKeyring) -> None:
        super().__init__()
        self._keyring = keyring

    async def add(self, key: WrappedDataKey) -> None:
        theirs = wrap(self._keyring.active, key.tenant_id, key.subject, key.version, new_data_key())
        await super().add(theirs)
        await super().add(key)


async def test_concurrent_rotation_by_two_processes_is_a_conflict(
    keyring: MasterKeyring, clock: FixedClock
) -> None:
    store = RacingStore(keyring)
    cipher = FieldCipher(keyring, store, clock=clock)
    with pytest.raises(ConflictError):
        await cipher.data_keys.rotate("acme")
    assert [k.version for k in await store.load("acme", None)] == [1]


async def test_losing_the_race_to_create_a_first_key_uses_the_winners_key(
    keyring: MasterKeyring, clock: FixedClock
) -> None:
    store = RacingStore(keyring)
    token = await FieldCipher(keyring, store, clock=clock).encrypt("acme", "t", "c", 1, "v")
    assert key_id_of(token) == "t1"
    fresh = FieldCipher(keyring, store, clock=clock)  # reads only what the store holds
    assert await fresh.decrypt("acme", "t", "c", 1, token) == "v"
