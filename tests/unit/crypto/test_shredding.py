"""Crypto-shredding: destroying a subject's or a tenant's data keys makes its tokens unreadable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core_alerts.crypto import (
    DataKeyDestroyed,
    FieldCipher,
    FieldRef,
    InMemoryDataKeyStore,
    KeyUsage,
    MasterKeyring,
    key_id_of,
)
from core_alerts.domain.clock import FixedClock


async def test_shredding_a_subject_makes_only_its_values_unreadable(cipher: FieldCipher) -> None:
    alice = await cipher.encrypt("acme", "contacts", "phone", 1, "+1 555 0100", subject="alice")
    alice_v2 = await cipher.encrypt("acme", "contacts", "email", 1, "a@x.org", subject="alice")
    bob = await cipher.encrypt("acme", "contacts", "phone", 2, "+1 555 0101", subject="bob")
    shared = await cipher.encrypt("acme", "receivers", "webhook_url", 9, "https://hooks/x")

    assert await cipher.data_keys.destroy_subject("acme", "alice") == 1

    with pytest.raises(DataKeyDestroyed, match=r"data key s1 .* was destroyed \(crypto-shredded\)"):
        await cipher.decrypt("acme", "contacts", "phone", 1, alice, subject="alice")
    with pytest.raises(DataKeyDestroyed):
        await cipher.decrypt("acme", "contacts", "email", 1, alice_v2, subject="alice")
    assert await cipher.decrypt("acme", "contacts", "phone", 2, bob, subject="bob") == "+1 555 0101"
    assert await cipher.decrypt("acme", "receivers", "webhook_url", 9, shared) == "https://hooks/x"


async def test_shredding_destroys_every_version_and_leaves_no_key_material(
    cipher: FieldCipher, store: InMemoryDataKeyStore
) -> None:
    await cipher.encrypt("acme", "t", "c", 1, "v", subject="alice")
    await cipher.data_keys.rotate("acme", "alice")
    assert await cipher.data_keys.destroy_subject("acme", "alice") == 2
    records = await store.load("acme", "alice")
    assert sorted(r.version for r in records) == [1, 2]
    assert all(r.destroyed and r.wrapped is None and r.master_key_id is None for r in records)
    assert await cipher.data_keys.destroy_subject("acme", "alice") == 0


async def test_new_values_of_a_shredded_subject_get_a_new_key_version(cipher: FieldCipher) -> None:
    old = await cipher.encrypt("acme", "t", "c", 1, "old", subject="alice")
    await cipher.data_keys.destroy_subject("acme", "alice")
    new = await cipher.encrypt("acme", "t", "c", 1, "new", subject="alice")
    assert (key_id_of(old), key_id_of(new)) == ("s1", "s2")  # versions are never reused
    assert await cipher.decrypt("acme", "t", "c", 1, new, subject="alice") == "new"
    with pytest.raises(DataKeyDestroyed):
        await cipher.decrypt("acme", "t", "c", 1, old, subject="alice")


async def test_shredding_a_tenant_destroys_its_subjects_too_and_spares_other_tenants(
    cipher: FieldCipher,
) -> None:
    tenant = await cipher.encrypt("acme", "t", "c", 1, "v")
    subject = await cipher.encrypt("acme", "t", "c", 1, "v", subject="alice")
    other = await cipher.encrypt("globex", "t", "c", 1, "kept")
    await cipher.data_keys.rotate("acme")

    assert await cipher.data_keys.destroy_tenant("acme") == 3

    with pytest.raises(DataKeyDestroyed, match="tenant 'acme'"):
        await cipher.decrypt("acme", "t", "c", 1, tenant)
    with pytest.raises(DataKeyDestroyed):
        await cipher.decrypt("acme", "t", "c", 1, subject, subject="alice")
    assert await cipher.decrypt("globex", "t", "c", 1, other) == "kept"


async def test_another_process_stops_decrypting_after_forget_or_the_cache_ttl(
    keyring: MasterKeyring, store: InMemoryDataKeyStore, clock: FixedClock
) -> None:
    one = FieldCipher(keyring, store, clock=clock, cache_ttl=60)
    two = FieldCipher(keyring, store, clock=clock, cache_ttl=60)
    token = await two.encrypt("acme", "t", "c", 1, "v", subject="alice")
    tenant_token = await two.encrypt("acme", "t", "c", 1, "v")
    await one.data_keys.destroy_subject("acme", "alice")
    await one.data_keys.destroy_tenant("acme")

    assert await two.decrypt("acme", "t", "c", 1, token, subject="alice") == "v"  # cached
    two.data_keys.forget("acme", "alice")
    with pytest.raises(DataKeyDestroyed):
        await two.decrypt("acme", "t", "c", 1, token, subject="alice")
    assert await two.decrypt("acme", "t", "c", 1, tenant_token) == "v"  # cached until the TTL
    clock.advance(60)
    with pytest.raises(DataKeyDestroyed):
        await two.decrypt("acme", "t", "c", 1, tenant_token)


async def test_reencryption_skips_shredded_values_and_counts_them(cipher: FieldCipher) -> None:
    refs = [FieldRef("acme", "t", "c", n, subject=f"person-{n % 2}") for n in range(4)]
    table = {ref: await cipher.encrypt_field(ref, "v") for ref in refs}
    await cipher.data_keys.destroy_subject("acme", "person-0")
    await cipher.data_keys.rotate("acme", "person-1")

    async def rows() -> AsyncIterator[tuple[FieldRef, str]]:
        for row in table.items():
            yield row

    assert await cipher.key_usage(rows()) == KeyUsage(old=2, destroyed=2)
    async for ref, token in cipher.reencrypt(rows()):
        assert ref.subject == "person-1"
        table[ref] = token
    assert await cipher.key_usage(rows()) == KeyUsage(active=2, destroyed=2)
