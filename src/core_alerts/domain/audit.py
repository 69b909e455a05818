"""The audit trail: entries, their canonical encoding, and the per-tenant hash chain.

Each entry stores the hash of the one before it (`prev_hash`) and its own `hash`, an
HMAC-SHA256 of its canonical encoding under a server-side key. Changing, removing, moving or
adding a row therefore breaks the chain at that row, and someone who can write the database
but cannot read the key cannot compute a chain that verifies again. Without a key the hash is
a plain SHA-256: it still catches accidental corruption and naive edits, but anyone who can
write the database can recompute it.

`AuditHead` (last seq and hash, kept apart from the entries) lets verification notice that
the newest entries were deleted. Verification reports the first entry that does not verify
and what happened to it (`TamperKind`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Final, Literal

import msgspec

from core_alerts.domain.errors import ConfigError, LimitExceeded, ValidationFailed

DetailValue = str | int | float | bool | None
AuditOutcome = Literal["ok", "denied", "error"]
OUTCOMES: Final = frozenset({"ok", "denied", "error"})

GENESIS_HASH: Final = "0" * 64
"""The prev_hash of every tenant's first entry."""
CHAIN_FORMAT: Final = b"core-alerts/audit/v1\n"
"""Prefixed to every hashed message, so a later encoding can never collide with this one."""
MIN_KEY_BYTES: Final = 16
MAX_TEXT: Final = 512
MAX_DETAILS_BYTES: Final = 16_384
UNDECODABLE_DETAILS: Final = "__undecodable__"
"""Key under which a store returns a details value it could not decode (a tampered row)."""

# Lower-case dotted words ("alert.ack", "auth.login.failed"): prefix filters stay predictable.
_ACTION = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*")


class AuditDraft(msgspec.Struct, frozen=True, kw_only=True):
    """An event to record. The log assigns seq and the chain links; `at=None` means now."""

    actor: str
    action: str
    target_type: str = ""
    target_id: str = ""
    outcome: AuditOutcome = "ok"
    details: dict[str, DetailValue] = {}
    at: float | None = None

    def __post_init__(self) -> None:
        check_draft(self)


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded event, as stored. Entries read back are not validated: a tampered row
    is returned as it is, and verification reports it."""

    tenant_id: str
    seq: int
    """Per tenant, 1-based, without gaps."""
    at: float
    """Epoch seconds."""
    actor: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    """"ok", "denied" or "error"."""
    details: dict[str, DetailValue]
    prev_hash: str
    hash: str


class AuditHead(msgspec.Struct, frozen=True, kw_only=True):
    """The last seq and hash of a tenant's chain, written with every append."""

    tenant_id: str
    seq: int
    hash: str


class TamperKind(StrEnum):
    EDITED = "edited"
    """The entry's content does not match its hash."""
    DELETED = "deleted"
    """A seq is missing while later entries exist."""
    REORDERED = "reordered"
    """An entry sits at another seq than the one it was recorded with."""
    TRUNCATED = "truncated"
    """The chain ends before the head says it does: the newest entries were deleted."""
    INSERTED = "inserted"
    """An entry that was never appended: beyond the head, a duplicate seq, another tenant's."""


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    tenant_id: str | None
    checked: int
    """Entries read."""
    last_seq: int
    """Highest seq read."""
    bad_seq: int | None = None
    """The first seq that does not verify."""
    kind: TamperKind | None = None
    reason: str = ""


# -- validation ---------------------------------------------------------------------------


def _check_text(value: object, field: str, *, required: bool, limit: int = MAX_TEXT) -> None:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", field=field)
    if required and not value:
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise LimitExceeded(f"{field} is longer than {limit} characters", field=field)
    if "\x00" in value:
        raise ValidationFailed(f"{field} must not contain NUL characters", field=field)


def _check_details(details: object) -> None:
    if not isinstance(details, dict):
        raise ValidationFailed("details must be an object", field="details")
    for name, value in details.items():
        _check_text(name, "details key", required=True)
        if isinstance(value, str):
            _check_text(value, f"details.{name}", required=False, limit=MAX_DETAILS_BYTES)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValidationFailed(f"details.{name} must be a finite number", field="details")
        elif value is not None and not isinstance(value, bool | int | float):
            raise ValidationFailed(
                f"details.{name} must be a string, number, boolean or null", field="details"
            )
    if len(msgspec.json.encode(details)) > MAX_DETAILS_BYTES:
        raise LimitExceeded(f"details exceed {MAX_DETAILS_BYTES} bytes", field="details")


def check_draft(draft: AuditDraft) -> None:
    """Raise ValidationFailed unless the draft can be stored and hashed the same everywhere."""
    _check_text(draft.actor, "actor", required=True)
    _check_text(draft.action, "action", required=True)
    if not _ACTION.fullmatch(draft.action):
        raise ValidationFailed(
            f"action {draft.action!r} must be lower-case dotted words, like 'alert.ack'",
            field="action",
        )
    _check_text(draft.target_type, "target_type", required=False)
    _check_text(draft.target_id, "target_id", required=False)
    if draft.outcome not in OUTCOMES:
        raise ValidationFailed(
            f"outcome {draft.outcome!r} must be one of: {', '.join(sorted(OUTCOMES))}",
            field="outcome",
        )
    _check_details(draft.details)
    if draft.at is not None and not (
        isinstance(draft.at, int | float) and math.isfinite(draft.at) and draft.at >= 0
    ):
        raise ValidationFailed("at must be a finite, non-negative epoch time", field="at")


def check_tenant(tenant_id: str) -> None:
    _check_text(tenant_id, "tenant_id", required=True, limit=256)


def check_key(key: bytes | None) -> None:
    """A short key would make the HMAC guessable; refuse it instead of weakening the chain."""
    if key is not None and len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"the audit key must be at least {MIN_KEY_BYTES} bytes long")


# -- hashing ------------------------------------------------------------------------------


def canonical_bytes(entry: AuditEntry) -> bytes:
    """The entry as JSON with sorted keys and without `hash`: the same bytes on every host."""
    fields = msgspec.structs.asdict(entry)
    del fields["hash"]
    return msgspec.json.encode(fields, order="sorted")


def chain_hash(key: bytes | None, prev_hash: str, entry: AuditEntry) -> str:
    """Hex HMAC-SHA256 under `key` (plain SHA-256 when None) of the entry linked to prev_hash.

    The entry's own prev_hash is replaced by the given one, so this answers "what should the
    hash of this content be, if it follows prev_hash?".
    """
    check_key(key)
    linked = entry if entry.prev_hash == prev_hash else _relinked(entry, prev_hash)
    message = CHAIN_FORMAT + canonical_bytes(linked)
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _relinked(entry: AuditEntry, prev_hash: str) -> AuditEntry:
    return msgspec.structs.replace(entry, prev_hash=prev_hash)


def seal_entries(
    key: bytes | None,
    tenant_id: str,
    head: AuditHead | None,
    drafts: Sequence[AuditDraft],
    *,
    now: float,
) -> list[AuditEntry]:
    """Number and chain drafts after `head` (None: the tenant has no entries yet)."""
    check_key(key)
    check_tenant(tenant_id)
    seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
    sealed: list[AuditEntry] = []
    for index, draft in enumerate(drafts):
        try:
            check_draft(draft)
        except ValidationFailed as exc:
            raise type(exc)(exc.message, field=exc.field, index=index) from None
        seq += 1
        entry = AuditEntry(
            tenant_id=tenant_id,
            seq=seq,
            # float(): an int would encode as "5" here and as "5.0" once read back as a double.
            at=float(now if draft.at is None else draft.at),
            actor=draft.actor,
            action=draft.action,
            target_type=draft.target_type,
            target_id=draft.target_id,
            outcome=draft.outcome,
            details=dict(draft.details),
            prev_hash=prev,
            hash="",
        )
        prev = chain_hash(key, prev, entry)
        sealed.append(msgspec.structs.replace(entry, hash=prev))
    return sealed


# -- verification -------------------------------------------------------------------------


class _Finding(msgspec.Struct, frozen=True):
    seq: int
    kind: TamperKind
    reason: str
    entry: AuditEntry
    search_moved: bool = False
    """Content and link both fail: finish() looks for the seq the content was recorded with."""


class ChainVerifier:
    """Walks one tenant's entries in ascending seq order, in constant memory.

    feed() every entry, then finish() with the head read after the last entry. Only the
    first problem is reported; later entries are still counted.
    """

    def __init__(self, tenant_id: str | None = None, *, key: bytes | None) -> None:
        check_key(key)
        self._key = key
        self._tenant = tenant_id
        self._checked = 0
        self._last_seq = 0
        self._next_seq = 1
        self._prev_hash = GENESIS_HASH
        self._finding: _Finding | None = None

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def feed(self, entry: AuditEntry) -> None:
        previous, self._last_seq = self._last_seq, max(self._last_seq, entry.seq)
        self._checked += 1
        if self._tenant is None:
            self._tenant = entry.tenant_id
        if self._finding is None:
            self._finding = self._check(entry, previous)

    def _check(self, entry: AuditEntry, previous: int) -> _Finding | None:
        if entry.seq != self._next_seq:
            return self._misplaced(entry, previous)
        sealed = hmac.compare_digest(chain_hash(self._key, entry.prev_hash, entry), entry.hash)
        if entry.tenant_id != self._tenant:
            kind = TamperKind.INSERTED if sealed else TamperKind.EDITED
            return _Finding(
                entry.seq, kind, f"entry {entry.seq} belongs to tenant {entry.tenant_id!r}", entry
            )
        linked = hmac.compare_digest(entry.prev_hash, self._prev_hash)
        if sealed and linked:
            self._next_seq, self._prev_hash = entry.seq + 1, entry.hash
            return None
        if linked:
            return _Finding(entry.seq, TamperKind.EDITED, self._edited_reason(entry), entry)
        if sealed:
            return self._rewritten_predecessor(entry)
        reason = f"entry {entry.seq} does not match its hash nor follow entry {entry.seq - 1}"
        return _Finding(entry.seq, TamperKind.EDITED, reason, entry, search_moved=True)

    def _misplaced(self, entry: AuditEntry, previous: int) -> _Finding:
        seq = entry.seq
        if seq < 1:
            return _Finding(seq, TamperKind.INSERTED, f"seq {seq} is below 1", entry)
        if seq == previous:
            return _Finding(seq, TamperKind.INSERTED, f"two entries claim seq {seq}", entry)
        if seq < self._next_seq:
            reason = f"entry {seq} comes after entry {previous}: entries are out of seq order"
            return _Finding(seq, TamperKind.REORDERED, reason, entry)
        missing = self._next_seq
        reason = f"entry {missing} is missing: entry {seq} follows entry {missing - 1}"
        return _Finding(missing, TamperKind.DELETED, reason, entry)

    def _edited_reason(self, entry: AuditEntry) -> str:
        reason = f"entry {entry.seq} does not match its hash: its content was changed"
        if self._key is not None and chain_hash(None, entry.prev_hash, entry) == entry.hash:
            reason += " and its hash recomputed without the audit key (plain SHA-256)"
        return reason

    def _rewritten_predecessor(self, entry: AuditEntry) -> _Finding:
        """The entry verifies but names another predecessor: the one before it was replaced
        by content with a recomputed hash (possible without a key, or with a leaked one)."""
        if entry.seq == 1:
            reason = "entry 1 verifies but does not start the chain"
            return _Finding(1, TamperKind.EDITED, reason, entry)
        reason = (
            f"entry {entry.seq - 1} was rewritten: entry {entry.seq} was chained to a "
            "different entry before it"
        )
        return _Finding(entry.seq - 1, TamperKind.EDITED, reason, entry)

    def finish(self, head: AuditHead | None = None, *, head_required: bool = False) -> ChainReport:
        """The verdict. With a head, also check that the chain ends exactly where it says."""
        if head is None and head_required and self._checked:
            reason = "the head row is missing: deleting the newest entries would go unnoticed"
            return self._report(self._last_seq + 1, TamperKind.TRUNCATED, reason)
        if head is not None:
            at_head = self._check_head(head)
            if at_head is not None:
                return at_head
        finding = self._finding
        if finding is None:
            return ChainReport(
                ok=True,
                tenant_id=self._tenant,
                checked=self._checked,
                last_seq=self._last_seq,
                reason=f"{self._checked} entries verified",
            )
        if finding.search_moved:
            moved_from = self._recorded_seq(finding.entry, head)
            if moved_from is not None:
                reason = f"entry {finding.seq} holds the entry recorded as seq {moved_from}"
                return self._report(finding.seq, TamperKind.REORDERED, reason)
        return self._report(finding.seq, finding.kind, finding.reason)

    def _check_head(self, head: AuditHead) -> ChainReport | None:
        """A problem at the head that comes before any finding of the walk, if there is one."""
        if self._tenant is not None and head.tenant_id != self._tenant:
            reason = f"the head belongs to tenant {head.tenant_id!r}, not {self._tenant!r}"
            return self._report(head.seq, TamperKind.EDITED, reason)
        verified_to = self._next_seq - 1
        if verified_to > head.seq:
            reason = f"the head records {head.seq} entries but entry {head.seq + 1} verifies"
            return self._report(head.seq + 1, TamperKind.INSERTED, reason)
        if self._finding is not None and self._finding.seq <= head.seq:
            return None
        if verified_to < head.seq:
            reason = f"the head records {head.seq} entries but the chain ends at {verified_to}"
            return self._report(verified_to + 1, TamperKind.TRUNCATED, reason)
        if not hmac.compare_digest(self._prev_hash, head.hash):
            reason = f"entry {head.seq} is not the entry the head recorded"
            return self._report(head.seq, TamperKind.TRUNCATED, reason)
        if self._finding is not None:
            seq = self._finding.entry.seq
            reason = f"entry {seq} is beyond the head (seq {head.seq}): it was never appended"
            return self._report(seq, TamperKind.INSERTED, reason)
        return None

    def _recorded_seq(self, entry: AuditEntry, head: AuditHead | None) -> int | None:
        """The seq under which the entry's content and link verify, if any (it was moved)."""
        upper = max(self._last_seq, head.seq if head is not None else 0)
        for seq in range(1, upper + 1):
            if seq == entry.seq:
                continue
            candidate = msgspec.structs.replace(entry, seq=seq)
            if hmac.compare_digest(chain_hash(self._key, entry.prev_hash, candidate), entry.hash):
                return seq
        return None

    def _report(self, seq: int, kind: TamperKind, reason: str) -> ChainReport:
        return ChainReport(
            ok=False,
            tenant_id=self._tenant,
            checked=self._checked,
            last_seq=self._last_seq,
            bad_seq=seq,
            kind=kind,
            reason=reason,
        )


def verify_chain(
    entries: Iterable[AuditEntry],
    head: AuditHead | None = None,
    *,
    key: bytes | None,
    tenant_id: str | None = None,
) -> ChainReport:
    """Verify one tenant's entries (sorted by seq here) against the key and, if given, the head.

    Without a head, deleting the newest entries cannot be detected.
    """
    if tenant_id is None and head is not None:
        tenant_id = head.tenant_id
    verifier = ChainVerifier(tenant_id, key=key)
    for entry in sorted(entries, key=lambda e: e.seq):
        verifier.feed(entry)
    return verifier.finish(head)
