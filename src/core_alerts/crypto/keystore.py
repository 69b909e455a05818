"""The in-memory DataKeyStore (the port and WrappedDataKey are in domain.datakeys).

A data key is identified by (tenant_id, subject, version); subject None is the tenant's own
key. Rows are never deleted: crypto-shredding overwrites a row with a tombstone (no key
material), so versions are never reused and a token on a shredded key says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from core_alerts.domain.datakeys import DataKeyStore, WrappedDataKey
from core_alerts.domain.errors import ConflictError

__all__ = ["DataKeyStore", "InMemoryDataKeyStore", "WrappedDataKey"]
_Identity = tuple[str, str | None, int]


class InMemoryDataKeyStore:
    """A DataKeyStore in a dict: for tests and for dev mode without a database."""

    def __init__(self) -> None:
        self._keys: dict[_Identity, WrappedDataKey] = {}

    async def load(self, tenant_id: str, subject: str | None) -> list[WrappedDataKey]:
        return [k for k in self._keys.values() if (k.tenant_id, k.subject) == (tenant_id, subject)]

    async def load_tenant(self, tenant_id: str) -> list[WrappedDataKey]:
        return [k for k in self._keys.values() if k.tenant_id == tenant_id]

    async def tenant_ids(self) -> list[str]:
        return sorted({k.tenant_id for k in self._keys.values()})

    async def add(self, key: WrappedDataKey) -> None:
        identity = _identity(key)
        if identity in self._keys:
            raise ConflictError(f"data key {key.key_id} of tenant {key.tenant_id!r} exists")
        self._keys[identity] = key

    async def replace(self, keys: Sequence[WrappedDataKey]) -> None:
        missing = [k.key_id for k in keys if _identity(k) not in self._keys]
        if missing:
            raise ConflictError(f"cannot replace data keys that are not stored: {missing}")
        for key in keys:
            self._keys[_identity(key)] = key


def _identity(key: WrappedDataKey) -> _Identity:
    return (key.tenant_id, key.subject, key.version)
