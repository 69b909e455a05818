"""The storage Protocol every backend implements, and its query types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

import msgspec

from core_alerts.domain.ingest import IngestResult, IngestSend
from core_alerts.domain.lifecycle import HumanAction
from core_alerts.domain.matchers import Matcher
from core_alerts.domain.record import AlertRecord, Decision, Transition


class AlertQuery(msgspec.Struct, kw_only=True):
    """Filters of a list query; all given filters must hold (AND)."""

    statuses: list[str] | None = None
    severities: list[str] | None = None
    matchers: list[Matcher] = msgspec.field(default_factory=list)
    since: float | None = None
    """Only alerts last seen at or after this time."""
    until: float | None = None
    """Only alerts that started at or before this time."""
    after_seq: int | None = None
    """Cursor: only alerts older (lower seq) than this one."""
    text: str | None = None
    """Only alerts whose labels, annotations, title or description contain this text
    (case-insensitive for ASCII): how a data subject's alerts are found."""
    limit: int = 100


class AlertPage(msgspec.Struct, kw_only=True):
    items: list[AlertRecord]
    next_cursor: int | None


class AlertStore(Protocol):
    """Durable alert state. Writes are committed before they return."""

    plans_from_digests: ClassVar[bool]
    """Whether a PackedSend that repeats its alert unchanged is planned without unpacking
    (the store knows content digests); otherwise packing is only overhead."""

    async def open(self) -> None:
        """Connect and apply schema migrations."""
        ...

    async def close(self) -> None:
        """Finish queued writes, then disconnect."""
        ...

    async def ping(self) -> None:
        """Raise StorageUnavailable when the database cannot serve."""
        ...

    async def apply_sends(self, sends: Sequence[IngestSend]) -> list[IngestResult]:
        """Dedup and persist one request's sends atomically (all or nothing), group-committed
        with concurrent requests. Returns one result per send, in order."""
        ...

    async def get(self, tenant_id: str, alert_id: str) -> AlertRecord | None: ...

    async def get_many(self, tenant_id: str, alert_ids: Sequence[str]) -> list[AlertRecord]:
        """The alerts with these ids (unknown ids are left out; order not kept)."""
        ...

    async def get_by_fingerprint(self, tenant_id: str, fingerprint: str) -> AlertRecord | None: ...

    async def query(self, tenant_id: str, query: AlertQuery) -> AlertPage: ...

    async def transition(
        self, tenant_id: str, alert_id: str, action: HumanAction, actor: str, comment: str
    ) -> AlertRecord:
        """Apply a human action in one transaction; raise AlertNotFound / InvalidTransition."""
        ...

    async def history(self, tenant_id: str, alert_id: str) -> list[Transition]: ...

    async def add_decisions(self, decisions: list[Decision]) -> None: ...

    async def decisions(self, tenant_id: str, alert_id: str) -> list[Decision]: ...

    async def expire_due(self, limit: int) -> list[tuple[AlertRecord, Transition]]:
        """Resolve active alerts whose endsAt has passed (all tenants); return what changed."""
        ...

    async def purge_resolved(self, tenant_id: str, before: float, limit: int) -> int:
        """Delete up to `limit` of the tenant's alerts resolved before `before`, with their
        history and decisions (retention); return how many alerts went."""
        ...

    async def update_annotations(
        self, tenant_id: str, alert_id: str, annotations: dict[str, str]
    ) -> bool:
        """Replace an alert's annotations (re-encryption); False if it is not there."""
        ...

    async def delete_alerts(self, tenant_id: str, alert_ids: list[str]) -> int:
        """Delete these alerts of the tenant with their history and decisions (erasure);
        ids of other tenants or unknown ids are skipped. Returns how many went."""
        ...

    async def pending_writes(self) -> int:
        """Sends queued for commit and not yet committed (for backpressure)."""
        ...
