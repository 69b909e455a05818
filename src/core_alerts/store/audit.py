"""The AuditLog port (append-only, one hash chain per tenant), what its backends share, and
streaming verification of a stored chain."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import msgspec

from core_alerts.domain.audit import (
    UNDECODABLE_DETAILS,
    AuditDraft,
    AuditEntry,
    AuditHead,
    ChainReport,
    ChainVerifier,
    DetailValue,
    check_tenant,
)
from core_alerts.domain.errors import LimitExceeded, ValidationFailed

MAX_PAGE = 1000
ENTRY_COLUMNS = (
    "tenant_id, seq, at, actor, action, target_type, target_id, outcome, details, prev_hash, hash"
)
STREAM_CHUNK = 1000
"""Entries per query when streaming a chain: bounded memory, no long-running transaction."""


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of a list query; all given filters must hold (AND)."""

    after_seq: int | None = None
    """Cursor: only entries with a higher seq (pages go oldest first)."""
    limit: int = 100
    action_prefix: str | None = None
    """Only actions that start with this text ("auth." matches "auth.login.failed")."""
    actor: str | None = None
    since: float | None = None
    """Only entries at or after this epoch time."""
    until: float | None = None
    """Only entries before this epoch time."""


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    entries: builtins.list[AuditEntry]
    next_after_seq: int | None
    """Pass as after_seq for the next page; None when this page is the last."""


class AuditLog(Protocol):
    """Append-only, per-tenant chains of audit entries. There is no update or delete."""

    async def open(self) -> None:
        """Connect and apply schema migrations."""
        ...

    async def close(self) -> None: ...

    async def append(
        self, tenant_id: str, drafts: Sequence[AuditDraft]
    ) -> builtins.list[AuditEntry]:
        """Number, chain and store the drafts in one transaction, serialized per tenant
        across processes, so concurrent appends never fork the chain. Raises
        ValidationFailed for a bad draft (nothing is stored)."""
        ...

    async def list(
        self,
        tenant_id: str,
        *,
        after_seq: int | None = None,
        limit: int = 100,
        action_prefix: str | None = None,
        actor: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> AuditPage:
        """One page of the tenant's entries, oldest first."""
        ...

    def entries(self, tenant_id: str, *, after_seq: int = 0) -> AsyncIterator[AuditEntry]:
        """Every entry of the tenant after `after_seq`, in seq order, read in chunks."""
        ...

    async def head(self, tenant_id: str) -> AuditHead | None:
        """The last seq and hash recorded by append; None when the tenant has none."""
        ...


# -- shared by the backends ---------------------------------------------------------------


def make_query(tenant_id: str, **filters: Any) -> AuditQuery:
    """Validate the arguments of `AuditLog.list`."""
    check_tenant(tenant_id)
    query = AuditQuery(**filters)
    if query.limit < 1:
        raise ValidationFailed("limit must be at least 1", field="limit")
    if query.limit > MAX_PAGE:
        raise LimitExceeded(f"limit must be at most {MAX_PAGE}", field="limit")
    return query


def list_sql(query: AuditQuery) -> tuple[str, builtins.list[Any]]:
    """SELECT with `?` placeholders; the first parameter is the tenant. Fetches limit + 1
    rows, so the caller knows whether another page follows."""
    conditions = ["tenant_id = ?"]
    params: builtins.list[Any] = []
    if query.after_seq is not None:
        conditions.append("seq > ?")
        params.append(query.after_seq)
    if query.action_prefix:
        conditions.append("substr(action, 1, ?) = ?")
        params += [len(query.action_prefix), query.action_prefix]
    if query.actor is not None:
        conditions.append("actor = ?")
        params.append(query.actor)
    if query.since is not None:
        conditions.append("at >= ?")
        params.append(query.since)
    if query.until is not None:
        conditions.append("at < ?")
        params.append(query.until)
    sql = (
        f"SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE {' AND '.join(conditions)} "
        "ORDER BY seq LIMIT ?"
    )
    return sql, [*params, query.limit + 1]


def page_of(entries: builtins.list[AuditEntry], limit: int) -> AuditPage:
    if len(entries) > limit:
        entries = entries[:limit]
        return AuditPage(entries=entries, next_after_seq=entries[-1].seq)
    return AuditPage(entries=entries, next_after_seq=None)


def entry_params(entry: AuditEntry) -> tuple[Any, ...]:
    """The row of an entry, in ENTRY_COLUMNS order; details as canonical JSON text."""
    details = msgspec.json.encode(entry.details, order="sorted").decode()
    return (
        entry.tenant_id, entry.seq, entry.at, entry.actor, entry.action, entry.target_type,
        entry.target_id, entry.outcome, details, entry.prev_hash, entry.hash,
    )  # fmt: skip


_DETAILS = msgspec.json.Decoder(dict[str, DetailValue])


def entry_from_row(row: Sequence[Any]) -> AuditEntry:
    """Never fails on a tampered row: undecodable details come back under a marker key,
    so the entry does not match its hash and verification reports it as edited."""
    tenant_id, seq, at, actor, action, target_type, target_id, outcome, raw, prev, digest = row
    try:
        details = _DETAILS.decode(raw)
    except (msgspec.DecodeError, TypeError):
        details = {UNDECODABLE_DETAILS: str(raw)}
    return AuditEntry(
        tenant_id=tenant_id, seq=seq, at=at, actor=actor, action=action,
        target_type=target_type, target_id=target_id, outcome=outcome, details=details,
        prev_hash=prev, hash=digest,
    )  # fmt: skip


# -- verification -------------------------------------------------------------------------


async def verify_log(log: AuditLog, tenant_id: str, *, key: bytes | None) -> ChainReport:
    """Stream the tenant's chain through a ChainVerifier and check it against the head.

    Appends may run meanwhile: the head is read after the entries, and entries committed
    after the walk (with their head) are read too before judging, so a concurrent append is
    not mistaken for truncation, and an entry beyond a head read later was never appended.
    """
    verifier = ChainVerifier(tenant_id, key=key)
    async for entry in log.entries(tenant_id):
        verifier.feed(entry)
    while True:
        head = await log.head(tenant_id)
        if head is None or head.seq <= verifier.last_seq:
            break
        fed = 0
        async for entry in log.entries(tenant_id, after_seq=verifier.last_seq):
            verifier.feed(entry)
            fed += 1
        if not fed:  # the head is ahead of every stored entry: the newest were deleted
            break
    return verifier.finish(head, head_required=True)
