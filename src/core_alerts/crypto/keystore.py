"""Where wrapped data keys live: the DataKeyStore port and its in-memory implementation.

A data key is identified by (tenant_id, subject, version); subject None is the tenant's own
key. Rows are never deleted: crypto-shredding overwrites a row with a tombstone (no key
material), so versions are never reused and a token on a shredded key says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from core_alerts.crypto.binding import data_key_id
from core_alerts.domain.errors import ConflictError


@dataclass(frozen=True, slots=True)
class WrappedDataKey:
    """One data key version as stored: AES-GCM encrypted under `master_key_id`.

    `wrapped` is nonce || ciphertext || tag. A destroyed key has `wrapped` and
    `master_key_id` set to None and can never be unwrapped again.
    """

    tenant_id: str
    subject: str | None
    version: int
    master_key_id: str | None
    wrapped: bytes | None = field(repr=False)

    @property
    def key_id(self) -> str:
        return data_key_id(self.version, self.subject)

    @property
    def destroyed(self) -> bool:
        return self.wrapped is None

    def tombstone(self) -> WrappedDataKey:
        return replace(self, master_key_id=None, wrapped=None)


class DataKeyStore(Protocol):
    """Persistence of wrapped data keys. Every method is tenant-scoped except tenant_ids().

    A SQL implementation needs one table: (tenant_id, subject NULL or text, version,
    master_key_id NULL or text, wrapped NULL or bytes), unique on (tenant_id, subject,
    version) with NULL subjects equal.
    """

    async def load(self, tenant_id: str, subject: str | None) -> list[WrappedDataKey]:
        """Every version of one key scope (the tenant's when subject is None), any order."""
        ...

    async def load_tenant(self, tenant_id: str) -> list[WrappedDataKey]:
        """Every version of every scope of a tenant, its subjects' keys included."""
        ...

    async def tenant_ids(self) -> list[str]:
        """Tenants that have at least one stored key (for master-key rotation)."""
        ...

    async def add(self, key: WrappedDataKey) -> None:
        """Insert a new version; raise ConflictError if that version already exists."""
        ...

    async def replace(self, keys: Sequence[WrappedDataKey]) -> None:
        """Overwrite stored versions (rewrap or tombstone) in one transaction.

        Raise ConflictError, changing nothing, if one of them is not stored.
        """
        ...


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
