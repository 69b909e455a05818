"""The audit trail when its log cannot be written: entries are kept and retried in order,
and past the bound the loss itself is recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core_alerts.domain.audit import AuditDraft
from core_alerts.domain.clock import FixedClock
from core_alerts.security import AuditTrail
from core_alerts.security import trail as trail_module
from core_alerts.store.sqlite import SqliteAuditLog


def draft(n: int) -> AuditDraft:
    return AuditDraft(actor="ann", action="alert.ack", target_id=str(n))


async def test_entries_survive_a_broken_log_and_the_overflow_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trail_module, "_MAX_BUFFER", 3)
    db = str(tmp_path / "audit.db")
    clock = FixedClock(1_800_000_000.0)
    trail = AuditTrail(SqliteAuditLog(db, key=b"k" * 32, clock=clock), clock, key=b"k" * 32)
    await trail.open()
    try:
        breaker = sqlite3.connect(db, isolation_level=None)
        breaker.execute("ALTER TABLE audit_entries RENAME TO audit_entries_away")
        for n in range(5):
            trail.record("acme", draft(n))
        await trail.flush()  # the log refuses: nothing is lost, nothing is half-written
        assert trail.backlog == 4  # the 3 it could hold, and the note that 2 were dropped
        breaker.execute("ALTER TABLE audit_entries_away RENAME TO audit_entries")
        breaker.close()
        await trail.flush()
        assert trail.backlog == 0
        entries = (await trail.log.list("acme")).entries
        assert [(e.action, e.target_id) for e in entries] == [
            ("alert.ack", "0"), ("alert.ack", "1"), ("alert.ack", "2"),
            ("audit.entries_dropped", ""),
        ]  # fmt: skip
        assert entries[-1].details == {"count": 2}
        assert (await trail.verify("acme")).ok
    finally:
        await trail.close()
