"""Data keys per tenant and subject: create, cache, rotate, shred, and rewrap under a new master.

Each scope (a tenant, or one subject of a tenant) has versions 1, 2, ...; the newest one
encrypts, every live one decrypts. Keys are unwrapped on first use and cached (keycache.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from enum import Enum

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core_alerts.crypto.binding import data_key_id
from core_alerts.crypto.errors import DataKeyDestroyed, DataKeyUnavailable
from core_alerts.crypto.keycache import KeyCache, Scope, ScopeKeys
from core_alerts.crypto.keystore import DataKeyStore, WrappedDataKey
from core_alerts.crypto.masterkeys import MasterKeyring
from core_alerts.crypto.wrapping import new_data_key, unwrap, wrap
from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.errors import ConflictError


class KeyState(Enum):
    ACTIVE = "active"
    OLD = "old"
    DESTROYED = "destroyed"


class DataKeys:
    def __init__(
        self,
        keyring: MasterKeyring,
        store: DataKeyStore,
        *,
        clock: Clock | None = None,
        cache_ttl: float = 300.0,
        max_cached_scopes: int = 10_000,
    ) -> None:
        self._keyring = keyring
        self._store = store
        self._cache = KeyCache(clock or SystemClock(), cache_ttl, max_cached_scopes)
        self._lock = asyncio.Lock()  # serialises key creation and rotation in this process

    @property
    def keyring(self) -> MasterKeyring:
        return self._keyring

    async def active(self, tenant_id: str, subject: str | None) -> tuple[str, AESGCM]:
        """The key that encrypts new values of the scope, created on first use."""
        keys = await self._scope((tenant_id, subject))
        version = keys.active_version
        if version is None:
            async with self._lock:
                keys = await self._reload((tenant_id, subject))
                if keys.active_version is None:
                    with contextlib.suppress(ConflictError):  # another process was first
                        await self._add_version((tenant_id, subject), keys.highest + 1)
                    keys = await self._reload((tenant_id, subject))
            version = keys.active_version
            if version is None:
                raise DataKeyUnavailable(f"no usable data key for tenant {tenant_id!r}")
        return data_key_id(version, subject), self._cipher(keys, version)

    async def for_version(self, tenant_id: str, subject: str | None, version: int) -> AESGCM:
        """The key of one version; raises DataKeyUnavailable or DataKeyDestroyed."""
        keys = await self._known((tenant_id, subject), version)
        return self._cipher(keys, version)

    async def state(self, tenant_id: str, subject: str | None, version: int) -> KeyState:
        keys = await self._known((tenant_id, subject), version)
        if keys.records[version].destroyed:
            return KeyState.DESTROYED
        return KeyState.ACTIVE if version == keys.active_version else KeyState.OLD

    async def active_key_id(self, tenant_id: str, subject: str | None = None) -> str | None:
        """Id of the scope's active key, or None if it has none yet (nothing is created)."""
        version = (await self._scope((tenant_id, subject))).active_version
        return None if version is None else data_key_id(version, subject)

    async def rotate(self, tenant_id: str, subject: str | None = None) -> str:
        """Create the next version of the scope's key; new values use it from now on.

        Raises ConflictError if another process rotated the same scope at the same moment.
        """
        async with self._lock:
            keys = await self._reload((tenant_id, subject))
            version = keys.highest + 1
            try:
                await self._add_version((tenant_id, subject), version)
            finally:
                await self._reload((tenant_id, subject))
        return data_key_id(version, subject)

    async def destroy_subject(self, tenant_id: str, subject: str) -> int:
        """Crypto-shred one subject: every value encrypted for it becomes unreadable."""
        records = await self._store.load(tenant_id, subject)
        return await self._destroy(tenant_id, subject, [r for r in records if not r.destroyed])

    async def destroy_tenant(self, tenant_id: str) -> int:
        """Crypto-shred a tenant: its keys and all its subjects' keys. Returns keys destroyed."""
        records = await self._store.load_tenant(tenant_id)
        return await self._destroy(tenant_id, None, [r for r in records if not r.destroyed])

    def forget(self, tenant_id: str, subject: str | None = None) -> None:
        """Drop cached keys (of one subject, or all of the tenant's) so the next use reloads.

        Call it on every process when another process rotated or shredded keys of the tenant.
        """
        self._cache.drop(tenant_id, subject)

    async def rewrap_all(self) -> int:
        """Rewrap every live data key that is not under the active master key.

        Run after putting a new master key first in the key list; when it returns, the old
        master keys wrap nothing any more (check with count_by_master_key()).
        """
        active = self._keyring.active
        rewrapped = 0
        for tenant_id in await self._store.tenant_ids():
            stale = [
                r
                for r in await self._store.load_tenant(tenant_id)
                if not r.destroyed and r.master_key_id != active.key_id
            ]
            fresh = [
                wrap(active, r.tenant_id, r.subject, r.version, unwrap(self._keyring, r))
                for r in stale
            ]
            if fresh:
                await self._store.replace(fresh)
                rewrapped += len(fresh)
        return rewrapped

    async def count_by_master_key(self) -> dict[str, int]:
        """How many live data keys each master key id wraps."""
        counts: Counter[str] = Counter()
        for tenant_id in await self._store.tenant_ids():
            for record in await self._store.load_tenant(tenant_id):
                if record.master_key_id is not None:
                    counts[record.master_key_id] += 1
        return dict(counts)

    async def _scope(self, scope: Scope) -> ScopeKeys:
        return self._cache.get(scope) or await self._reload(scope)

    async def _reload(self, scope: Scope) -> ScopeKeys:
        return self._cache.put(scope, await self._store.load(*scope))

    async def _known(self, scope: Scope, version: int) -> ScopeKeys:
        keys = await self._scope(scope)
        if version not in keys.records and version > keys.highest:
            keys = await self._reload(scope)  # another process may have rotated
        if version not in keys.records:
            tenant_id, subject = scope
            owner = f"subject {subject!r} of tenant" if subject else "tenant"
            raise DataKeyUnavailable(
                f"{owner} {tenant_id!r} has no data key {data_key_id(version, subject)}: the "
                "token was not written for it, or its key store was lost"
            )
        return keys

    async def _add_version(self, scope: Scope, version: int) -> None:
        tenant_id, subject = scope
        await self._store.add(
            wrap(self._keyring.active, tenant_id, subject, version, new_data_key())
        )

    def _cipher(self, keys: ScopeKeys, version: int) -> AESGCM:
        cipher = keys.ciphers.get(version)
        if cipher is None:
            record = keys.records[version]
            if record.destroyed:
                raise DataKeyDestroyed(
                    f"data key {record.key_id} of tenant {record.tenant_id!r} was destroyed "
                    "(crypto-shredded): values encrypted with it cannot be read any more"
                )
            cipher = keys.ciphers[version] = AESGCM(unwrap(self._keyring, record))
        return cipher

    async def _destroy(
        self, tenant_id: str, subject: str | None, live: list[WrappedDataKey]
    ) -> int:
        if live:
            await self._store.replace([r.tombstone() for r in live])
        self._cache.drop(tenant_id, subject)
        return len(live)
