"""The write-behind backlog of the SQLite store: committed to the intake, not yet to rows.

A group commit appends its sends to the `intake` table and commits (the durable point), then
hands its plan to the Backlog. The Backlog keeps the latest state of every touched alert and
writes each one once when it is flushed, so a storm of repeats costs one row write per alert
per flush instead of one per send. Flushing deletes the intake rows it covers in the same
transaction; after a crash, the rows left are replayed through the same planner.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

import msgspec

from core_alerts.domain.ingest import IngestSend, NormalizedAlert, PackedSend, UnchangedRepeat
from core_alerts.domain.lifecycle import COUNTER_FIELDS, BatchPlan, Key
from core_alerts.domain.record import AlertRecord, Decision, Transition
from core_alerts.store.rows import (
    DECISION_COLUMNS,
    HISTORY_COLUMNS,
    INSERT_COLUMNS,
    UPDATE_COLUMNS,
    counter_params,
    decision_params,
    history_params,
    insert_params,
    update_params,
)
from core_alerts.store.sqlite.directory import RowDirectory

INSERT_SQL = f"INSERT INTO alerts (seq, {INSERT_COLUMNS}) VALUES ({', '.join('?' * 23)})"
UPDATE_SQL = (
    "UPDATE alerts SET "
    + ", ".join(f"{c.strip()} = ?" for c in UPDATE_COLUMNS.split(","))
    + " WHERE seq = ?"
)
COUNTER_SQL = (
    "UPDATE alerts SET " + ", ".join(f"{c} = ?" for c in COUNTER_FIELDS) + " WHERE seq = ?"
)
HISTORY_SQL = f"INSERT INTO alert_history ({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
DECISION_SQL = f"INSERT INTO alert_decisions ({DECISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
INTAKE_SQL = "INSERT INTO intake (tenant_id, at, payload) VALUES (?, ?, ?) RETURNING seq"

IntakeSend = NormalizedAlert | UnchangedRepeat
IntakeEntry = tuple[float, list[list[IntakeSend]]]
_encode = msgspec.msgpack.Encoder().encode
# An UnchangedRepeat is written as an array and read back as a tuple (msgspec decodes a union
# of two structs only when both are tagged, and a tag would change the full sends' form).
# Rows written before repeats were kept short hold full sends only, and read the same way.
_RepeatRow = tuple[str, str, float | None, bool]
_decode = msgspec.msgpack.Decoder(tuple[float, list[list[NormalizedAlert | _RepeatRow]]]).decode


def intake_sends(
    requests: Sequence[Sequence[IngestSend]], plan: BatchPlan
) -> list[list[IntakeSend]]:
    """What the intake keeps of a planned group: each send whole, with the id planning gave
    it (a replay must give the same ids), or as an UnchangedRepeat where it changed nothing."""
    kept: list[list[IntakeSend]] = []
    for sends, results, repeats in zip(requests, plan.results, plan.unchanged, strict=True):
        same = {id(s) for s in repeats}
        part: list[IntakeSend] = []
        for send, result in zip(sends, results, strict=True):
            if id(send) in same:
                repeat = UnchangedRepeat(
                    send.tenant_id, send.fingerprint, send.ends_at, send.ends_at_explicit
                )
                part.append(repeat)
                continue
            whole = send.unpack() if isinstance(send, PackedSend) else send
            whole.alert_id = result.alert_id or None
            part.append(whole)
        kept.append(part)
    return kept


def append_intake(conn: sqlite3.Connection, now: float, requests: list[list[IntakeSend]]) -> int:
    """Write one group's sends to the intake, one row per tenant (tenants never share an
    alert, so replaying them apart gives the same result)."""
    by_tenant: dict[str, list[list[IntakeSend]]] = {}
    for sends in requests:
        split: dict[str, list[IntakeSend]] = {}
        for send in sends:
            split.setdefault(send.tenant_id, []).append(send)
        for tenant_id, part in split.items():
            by_tenant.setdefault(tenant_id, []).append(part)
    seq = 0
    for tenant_id, parts in by_tenant.items():
        row = conn.execute(INTAKE_SQL, (tenant_id, now, _encode((now, parts)))).fetchone()
        seq = int(row[0])
    return seq


def read_intake(conn: sqlite3.Connection) -> list[tuple[int, IntakeEntry]]:
    rows = conn.execute("SELECT seq, payload FROM intake ORDER BY seq").fetchall()
    entries = []
    for seq, payload in rows:
        now, parts = _decode(payload)
        sends = [
            [s if isinstance(s, NormalizedAlert) else UnchangedRepeat(*s) for s in part]
            for part in parts
        ]
        entries.append((seq, (now, sends)))
    return entries


class Backlog:
    """Alert states committed to the intake but not yet to their rows."""

    def __init__(self, directory: RowDirectory) -> None:
        self._directory = directory
        self._reset()

    def _reset(self) -> None:
        self.records: dict[Key, AlertRecord] = {}
        self._new: dict[Key, None] = {}  # insertion order = creation order = seq order
        self._reshaped: set[Key] = set()
        self._transitions: list[Transition] = []
        self._decisions: list[Decision] = []
        self._new_ids: set[tuple[str, str]] = set()
        self._intake_seq = 0

    def __len__(self) -> int:
        return len(self.records)

    def has_new_id(self, tenant_id: str, alert_id: str) -> bool:
        return (tenant_id, alert_id) in self._new_ids

    def absorb(self, plan: BatchPlan, intake_seq: int) -> None:
        for key, rec in plan.inserts.items():
            self.records[key] = rec
            self._new[key] = None
            self._new_ids.add((rec.tenant_id, rec.id))
        for key, rec in plan.updates.items():
            self.records[key] = rec
            if key in plan.reshaped:
                self._reshaped.add(key)
        self._transitions.extend(plan.transitions)
        self._decisions.extend(plan.decisions)
        self._intake_seq = max(self._intake_seq, intake_seq)

    def flush(self, conn: sqlite3.Connection) -> Callable[[], None]:
        """Write every pending state inside the caller's transaction; return what to run once
        it has committed (forgetting the backlog). A rollback keeps the backlog as it was."""
        records, new, reshaped = self.records, self._new, self._reshaped
        # This process is the only writer, so the next rowids are known: number the new rows
        # here and insert them in one executemany instead of one statement per row.
        (last,) = conn.execute("SELECT coalesce(max(seq), 0) FROM alerts").fetchone()
        fresh = [records[key] for key in new]
        for seq, rec in enumerate(fresh, last + 1):
            rec.seq = seq
        conn.executemany(INSERT_SQL, [(r.seq, *insert_params(r)) for r in fresh])
        conn.executemany(
            UPDATE_SQL,
            [update_params(r) for k, r in records.items() if k in reshaped and k not in new],
        )
        conn.executemany(
            COUNTER_SQL,
            [counter_params(r) for k, r in records.items() if k not in reshaped and k not in new],
        )
        conn.executemany(HISTORY_SQL, [history_params(t) for t in self._transitions])
        conn.executemany(DECISION_SQL, [decision_params(d) for d in self._decisions])
        conn.execute("DELETE FROM intake WHERE seq <= ?", (self._intake_seq,))

        def committed() -> None:
            for rec in fresh:
                self._directory.add((rec.tenant_id, rec.fingerprint), rec.seq)
            self._reset()

        return committed
