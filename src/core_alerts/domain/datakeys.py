"""Wrapped data keys of field encryption, and the port that stores them.

A data key is identified by (tenant_id, subject, version); subject None is the tenant's own
key. Rows are never deleted: crypto-shredding overwrites a row with a tombstone (no key
material), so versions are never reused and a token on a shredded key says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol


def data_key_id(version: int, subject: str | None) -> str:
    """`t<version>` for a tenant's data key, `s<version>` for a subject's."""
    return f"{'s' if subject else 't'}{version}"


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
