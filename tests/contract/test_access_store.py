"""The AccessStore contract (tenants and credentials), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core_alerts.domain.access import ApiKeyRecord, SigningKey, Tenant, UserAccount
from core_alerts.domain.errors import ConflictError, NotFound
from core_alerts.store import AccessStore
from core_alerts.store.postgres import PostgresAccessStore
from core_alerts.store.sqlite import SqliteAccessStore
from tests.contract.conftest import Target

_TABLES = "api_keys, users, revoked_tokens, signing_keys, tenants, data_keys"


@pytest.fixture
async def store(target: Target) -> AsyncIterator[AccessStore]:
    s: AccessStore
    if target.kind == "postgres":
        s = PostgresAccessStore(target.where)
    else:
        s = SqliteAccessStore(target.where)
    await s.open()
    await target.empty(_TABLES)
    yield s
    await s.close()


def key(tenant: str, key_id: str, **kw: object) -> ApiKeyRecord:
    return ApiKeyRecord(
        tenant_id=tenant, id=key_id, name=f"n-{key_id}", secret_hash="h" * 64,
        scopes=["alerts:write"], created_by="admin", created_at=1.0, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_tenants_are_created_once_listed_and_disabled(store: AccessStore) -> None:
    await store.create_tenant(Tenant(id="acme", name="Acme", created_at=1.0))
    await store.create_tenant(Tenant(id="beta", name="Beta", created_at=2.0))
    with pytest.raises(ConflictError):
        await store.create_tenant(Tenant(id="acme", name="Again", created_at=3.0))
    assert [t.id for t in await store.list_tenants()] == ["acme", "beta"]
    disabled = await store.set_tenant_status("acme", "disabled")
    assert disabled.status == "disabled"
    assert (await store.get_tenant("acme")) == disabled
    assert await store.get_tenant("nope") is None
    with pytest.raises(NotFound):
        await store.set_tenant_status("nope", "disabled")


async def test_users_have_global_usernames(store: AccessStore) -> None:
    await store.create_tenant(Tenant(id="acme", name="Acme", created_at=1.0))
    await store.create_tenant(Tenant(id="beta", name="Beta", created_at=1.0))
    user = UserAccount(
        tenant_id="acme", id="u1", username="alice", password_hash="$argon2id$x",
        role="responder", created_at=5.0,
    )  # fmt: skip
    await store.create_user(user)
    assert await store.get_user("alice") == user
    assert await store.get_user("bob") is None
    with pytest.raises(ConflictError):
        await store.create_user(
            UserAccount(
                tenant_id="beta", id="u2", username="alice", password_hash="x",
                role="viewer", created_at=6.0,
            )
        )  # fmt: skip


async def test_api_keys_are_found_by_id_listed_per_tenant_and_revoked(store: AccessStore) -> None:
    for t in ("acme", "beta"):
        await store.create_tenant(Tenant(id=t, name=t, created_at=1.0))
    await store.create_api_key(key("acme", "k1", expires_at=99.0))
    await store.create_api_key(key("beta", "k2"))
    found = await store.get_api_key("k1")
    assert found is not None and found.scopes == ["alerts:write"] and found.expires_at == 99.0
    assert [k.id for k in await store.list_api_keys("acme")] == ["k1"]
    with pytest.raises(NotFound):
        await store.revoke_api_key("acme", "k2", 10.0)  # beta's key, asked from acme
    assert (await store.get_api_key("k2")).revoked_at is None  # type: ignore[union-attr]
    revoked = await store.revoke_api_key("acme", "k1", 10.0)
    assert revoked.revoked_at == 10.0
    again = await store.revoke_api_key("acme", "k1", 20.0)
    assert again.revoked_at == 10.0  # the first revocation time stays


async def test_revoked_tokens_are_listed_until_they_expire(store: AccessStore) -> None:
    await store.revoke_token("acme", "j1", 100.0)
    await store.revoke_token("acme", "j1", 100.0)  # twice is fine
    await store.revoke_token("beta", "j2", 50.0)
    assert await store.revoked_tokens(40.0) == {"j1", "j2"}
    assert await store.revoked_tokens(60.0) == {"j1"}


async def test_signing_keys_come_back_newest_first(store: AccessStore) -> None:
    old = SigningKey(kid="a", algorithm="HS256", secret="x" * 40, created_at=1.0)
    new = SigningKey(kid="b", algorithm="HS256", secret="y" * 40, created_at=2.0)
    await store.add_signing_key(old)
    await store.add_signing_key(new)
    assert await store.signing_keys() == [new, old]
    with pytest.raises(ConflictError):
        await store.add_signing_key(old)


# -- data keys of field encryption (the DataKeyStore port) -----------------------------------


def dk(tenant: str, version: int, subject: str | None = None, wrapped: bytes | None = b"w") -> Any:
    from core_alerts.domain.datakeys import WrappedDataKey

    return WrappedDataKey(
        tenant_id=tenant, subject=subject, version=version,
        master_key_id="m1" if wrapped else None, wrapped=wrapped,
    )  # fmt: skip


async def test_data_keys_are_added_once_loaded_by_scope_and_replaced_all_or_nothing(
    store: Any,
) -> None:
    await store.add(dk("acme", 1))
    await store.add(dk("acme", 2))
    await store.add(dk("acme", 1, subject="ann"))
    await store.add(dk("beta", 1, wrapped=b"\x00\xff binary"))
    with pytest.raises(ConflictError):
        await store.add(dk("acme", 1))
    assert sorted(k.version for k in await store.load("acme", None)) == [1, 2]
    assert [k.subject for k in await store.load("acme", "ann")] == ["ann"]
    assert len(await store.load_tenant("acme")) == 3
    assert await store.tenant_ids() == ["acme", "beta"]
    assert (await store.load("beta", None))[0].wrapped == b"\x00\xff binary"
    with pytest.raises(ConflictError):  # version 9 is not stored: nothing changes
        await store.replace([dk("acme", 1, wrapped=b"new"), dk("acme", 9)])
    assert {k.wrapped for k in await store.load("acme", None)} == {b"w"}
    await store.replace([dk("acme", 1, subject="ann", wrapped=None)])  # a tombstone
    [shredded] = await store.load("acme", "ann")
    assert shredded.destroyed and shredded.master_key_id is None


async def test_a_field_cipher_on_the_store_survives_rotation(store: Any) -> None:
    from core_alerts.crypto import FieldCipher, generate_master_key, parse_master_keys

    keyring = parse_master_keys(generate_master_key())
    cipher = FieldCipher(keyring, store)
    token = await cipher.encrypt("acme", "alerts", "annotations.token", "fp1", "s3cret")
    await cipher.data_keys.rotate("acme")
    newer = await cipher.encrypt("acme", "alerts", "annotations.token", "fp1", "s3cret")
    assert token != newer and token.split(":")[2] != newer.split(":")[2]
    fresh = FieldCipher(keyring, store)  # another process: keys come from the database
    assert await fresh.decrypt("acme", "alerts", "annotations.token", "fp1", token) == "s3cret"
