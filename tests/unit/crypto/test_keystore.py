"""The in-memory DataKeyStore, and the binding of a wrapped key to its identity."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core_alerts.crypto import (
    DecryptionFailed,
    FieldCipher,
    InMemoryDataKeyStore,
    MasterKeyring,
    WrappedDataKey,
)
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import ConflictError


def record(tenant: str = "acme", version: int = 1, subject: str | None = None) -> WrappedDataKey:
    return WrappedDataKey(tenant, subject, version, "m", b"\x01" * 60)


async def test_add_refuses_an_existing_version() -> None:
    store = InMemoryDataKeyStore()
    await store.add(record())
    await store.add(record(subject="alice"))  # same version, other scope
    with pytest.raises(ConflictError, match="data key t1 of tenant 'acme' exists"):
        await store.add(record())
    assert len(await store.load_tenant("acme")) == 2
    assert len(await store.load("acme", None)) == 1


async def test_replace_changes_nothing_if_one_key_is_missing() -> None:
    store = InMemoryDataKeyStore()
    await store.add(record())
    with pytest.raises(ConflictError, match="not stored"):
        await store.replace([record().tombstone(), record(version=2)])
    assert not (await store.load("acme", None))[0].destroyed


async def test_tenant_ids_lists_tenants_with_keys() -> None:
    store = InMemoryDataKeyStore()
    await store.add(record("b"))
    await store.add(record("a", subject="x"))
    assert await store.tenant_ids() == ["a", "b"]


async def test_a_wrapped_key_copied_to_another_tenant_does_not_unwrap(
    keyring: MasterKeyring, clock: FixedClock
) -> None:
    store = InMemoryDataKeyStore()
    cipher = FieldCipher(keyring, store, clock=clock)
    await cipher.encrypt("acme", "t", "c", 1, "v")
    token = await cipher.encrypt("globex", "t", "c", 1, "v")
    acme_key = (await store.load("acme", None))[0]
    await store.replace([replace(acme_key, tenant_id="globex")])  # overwrite globex's key
    fresh = FieldCipher(keyring, store, clock=clock)
    with pytest.raises(DecryptionFailed, match="does not unwrap under master key '2026a'"):
        await fresh.decrypt("globex", "t", "c", 1, token)


def test_wrapped_key_material_stays_out_of_repr() -> None:
    assert "\\x01" not in repr(record())
