"""Data keys of recently used scopes, kept in memory after their first load and unwrap.

Entries expire after a TTL, so a process sees rotations and shredding done by another process
without being told; `forget` makes that immediate. The size bound keeps per-subject keys of
a large tenant from growing without limit. (An OrderedDict is enough: no library offers an
LRU with a TTL on an injected clock that is smaller than this.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core_alerts.crypto.keystore import WrappedDataKey
from core_alerts.domain.clock import Clock

Scope = tuple[str, str | None]  # (tenant_id, subject); subject None is the tenant's own key


@dataclass(slots=True)
class ScopeKeys:
    """Every version of one scope; AES-GCM objects are made on first use of a version."""

    records: dict[int, WrappedDataKey]
    loaded_at: float
    ciphers: dict[int, AESGCM] = field(default_factory=dict)

    @property
    def highest(self) -> int:
        return max(self.records, default=0)

    @property
    def active_version(self) -> int | None:
        """The newest version if it is usable; None if there is none or it was destroyed."""
        newest = self.records.get(self.highest)
        return None if newest is None or newest.destroyed else newest.version


class KeyCache:
    def __init__(self, clock: Clock, ttl: float, max_scopes: int) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max_scopes = max_scopes
        self._entries: OrderedDict[Scope, ScopeKeys] = OrderedDict()

    def get(self, scope: Scope) -> ScopeKeys | None:
        entry = self._entries.get(scope)
        if entry is None:
            return None
        if self._clock.now() - entry.loaded_at >= self._ttl:
            del self._entries[scope]
            return None
        self._entries.move_to_end(scope)
        return entry

    def put(self, scope: Scope, records: Iterable[WrappedDataKey]) -> ScopeKeys:
        entry = ScopeKeys({r.version: r for r in records}, self._clock.now())
        self._entries[scope] = entry
        self._entries.move_to_end(scope)
        while len(self._entries) > self._max_scopes:
            self._entries.popitem(last=False)
        return entry

    def drop(self, tenant_id: str, subject: str | None = None) -> None:
        """Drop one subject's scope, or every scope of the tenant when subject is None."""
        if subject is not None:
            self._entries.pop((tenant_id, subject), None)
            return
        for scope in [s for s in self._entries if s[0] == tenant_id]:
            del self._entries[scope]
