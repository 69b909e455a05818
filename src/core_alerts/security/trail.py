"""AuditTrail: records what callers did into the per-tenant hash chains of the AuditLog.

Entries are buffered and appended per tenant every `interval` seconds (and at close), so a
burst of ingest requests costs one chain append per tenant, not one per request. A crash can
lose the entries of that last interval; they are written after the request they describe
was answered.
"""

from __future__ import annotations

import asyncio

import msgspec
import structlog

from core_alerts.domain.audit import AuditDraft, ChainReport
from core_alerts.domain.clock import Clock
from core_alerts.pipeline import Periodic
from core_alerts.store import AuditLog, verify_log

log = structlog.get_logger(__name__)
_MAX_BUFFER = 100_000
"""Entries kept while the audit log cannot be written; past this, new ones are counted and
the count is recorded in the chain (`audit.entries_dropped`) once it can be written again."""


class AuditTrail:
    def __init__(
        self, audit_log: AuditLog, clock: Clock, *, key: bytes | None, interval: float = 0.1
    ) -> None:
        self.log = audit_log
        self._clock = clock
        self._key = key
        self._interval = interval
        self._buffer: dict[str, list[AuditDraft]] = {}
        self._size = 0
        self._dropped: dict[str, int] = {}
        self._flushing = asyncio.Lock()  # one flush at a time: order kept, waits are real
        self._flusher = Periodic(self.flush, interval, "audit flush")

    async def open(self) -> None:
        await self.log.open()
        self._flusher.start()

    async def close(self) -> None:
        await self._flusher.stop()
        await self.flush()
        await self.log.close()

    def record(self, tenant_id: str, draft: AuditDraft) -> None:
        """Queue an entry; it reaches the chain within `interval` seconds."""
        if self._size >= _MAX_BUFFER:
            self._dropped[tenant_id] = self._dropped.get(tenant_id, 0) + 1
            return
        if draft.at is None:
            draft = msgspec.structs.replace(draft, at=self._clock.now())
        self._buffer.setdefault(tenant_id, []).append(draft)
        self._size += 1

    async def flush(self) -> None:
        """Append what is buffered. A flush already running is waited for, so when this
        returns every entry recorded before the call is in the chain (or kept for a retry
        when the log cannot be written)."""
        async with self._flushing:
            buffer, self._buffer, self._size = self._buffer, {}, 0
            for tenant_id, dropped in self._dropped.items():
                note = AuditDraft(
                    actor="system", action="audit.entries_dropped", outcome="error",
                    details={"count": dropped}, at=self._clock.now(),
                )  # fmt: skip
                buffer.setdefault(tenant_id, []).append(note)
            self._dropped = {}
            for tenant_id, drafts in buffer.items():
                try:
                    await self.log.append(tenant_id, drafts)
                except Exception as exc:  # keep them for the next try; never lose silently
                    log.warning("audit append failed; will retry", tenant=tenant_id, error=str(exc))
                    self._buffer.setdefault(tenant_id, [])[:0] = drafts
                    self._size += len(drafts)

    async def verify(self, tenant_id: str) -> ChainReport:
        await self.flush()
        return await verify_log(self.log, tenant_id, key=self._key)

    @property
    def backlog(self) -> int:
        return self._size
