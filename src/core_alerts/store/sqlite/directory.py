"""RowDirectory: where each stored alert's row is, kept in memory instead of in an index.

Alert fingerprints are random, so a B-tree index on them takes its new entries on random
leaf pages: each backlog flush of new alerts wrote most of that index's pages whole, which
made it the largest cost of a new alert on SQLite. The store owns its file alone (a `flock`),
so a map of every row, loaded at open and changed only by the writer thread after each
commit, is the truth, answers "is this alert new?" without a query, and lets the store read
a known alert by its rowid.
"""

from __future__ import annotations

import sqlite3

from core_alerts.domain.lifecycle import Key


class RowDirectory:
    """(tenant, fingerprint) -> rowid (`seq`) of every row of `alerts`. About 130 bytes per
    alert (fingerprint strings, one map per tenant); 2 s to load a million."""

    def __init__(self) -> None:
        self._tenants: dict[str, dict[str, int]] = {}

    def load(self, conn: sqlite3.Connection) -> None:
        """Read every row's key (at open, before any write)."""
        tenants: dict[str, dict[str, int]] = {}
        for tenant_id, fingerprint, seq in conn.execute(
            "SELECT tenant_id, fingerprint, seq FROM alerts"
        ):
            rows = tenants.get(tenant_id)
            if rows is None:
                rows = tenants[tenant_id] = {}
            rows[fingerprint] = seq
        self._tenants = tenants

    def seq(self, key: Key) -> int | None:
        rows = self._tenants.get(key[0])
        return None if rows is None else rows.get(key[1])

    def add(self, key: Key, seq: int) -> None:
        rows = self._tenants.get(key[0])
        if rows is None:
            rows = self._tenants[key[0]] = {}
        rows[key[1]] = seq

    def discard(self, key: Key) -> None:
        rows = self._tenants.get(key[0])
        if rows is not None:
            rows.pop(key[1], None)
