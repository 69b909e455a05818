"""GDPR requests about a data subject: export everything stored about them, or erase it.

A subject is named by a text (an e-mail address, a user name, an IP address); its alerts are
those whose labels, annotations, title or description contain it. Erasure deletes those
alerts with their history and decisions. The audit trail is not rewritten, so it stays
verifiable: it gains an entry that records the erasure with a hash of the subject, and the
entries naming the subject as actor stay, as security logs (GDPR Art. 17(3)(b) and (e)).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import msgspec

from core_alerts.domain.audit import AuditEntry
from core_alerts.domain.errors import ValidationFailed
from core_alerts.domain.record import AlertRecord, Decision, Transition
from core_alerts.store import AlertQuery, AlertStore

MIN_SUBJECT = 3
_PAGE = 500
AuditOf = Callable[[str, str], Awaitable[list[AuditEntry]]]
"""(tenant, actor) -> the audit entries of that actor."""
RecordErasure = Callable[[str, str, str, int], None]
Reveal = Callable[[list[AlertRecord]], Awaitable[list[AlertRecord]]]
"""Decrypts the encrypted annotations of records (the export shows what is stored)."""
"""(tenant, who asked, subject hash, alerts deleted)."""


class SubjectAlert(msgspec.Struct, kw_only=True):
    alert: AlertRecord
    history: list[Transition]
    decisions: list[Decision]


class SubjectExport(msgspec.Struct, kw_only=True):
    tenant_id: str
    subject: str
    alerts: list[SubjectAlert]
    audit_entries: list[AuditEntry]
    """Entries whose actor is the subject."""


class SubjectRequests:
    def __init__(
        self,
        store: AlertStore,
        audit_of: AuditOf,
        record: RecordErasure,
        reveal: Reveal | None = None,
    ) -> None:
        self.store = store
        self._audit_of = audit_of
        self._record = record
        self._reveal = reveal

    async def _alerts(self, tenant_id: str, subject: str) -> list[AlertRecord]:
        if len(subject.strip()) < MIN_SUBJECT:
            raise ValidationFailed(
                f"a subject needs at least {MIN_SUBJECT} characters", field="subject"
            )
        found: list[AlertRecord] = []
        cursor = None
        while True:
            page = await self.store.query(
                tenant_id, AlertQuery(text=subject, after_seq=cursor, limit=_PAGE)
            )
            found.extend(page.items)
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    async def export(self, tenant_id: str, subject: str) -> SubjectExport:
        alerts = []
        found = await self._alerts(tenant_id, subject)
        for rec in await self._reveal(found) if self._reveal else found:
            alerts.append(
                SubjectAlert(
                    alert=rec,
                    history=await self.store.history(tenant_id, rec.id),
                    decisions=await self.store.decisions(tenant_id, rec.id),
                )
            )
        audit = await self._audit_of(tenant_id, subject)
        return SubjectExport(
            tenant_id=tenant_id, subject=subject, alerts=alerts, audit_entries=audit
        )

    async def erase(self, tenant_id: str, subject: str, requested_by: str) -> int:
        ids = [rec.id for rec in await self._alerts(tenant_id, subject)]
        deleted = await self.store.delete_alerts(tenant_id, ids) if ids else 0
        digest = hashlib.sha256(subject.encode()).hexdigest()
        self._record(tenant_id, requested_by, digest, deleted)
        return deleted
