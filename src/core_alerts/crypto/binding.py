"""What each ciphertext is bound to: the associated data (AAD) of fields and data keys.

AES-GCM authenticates the AAD without storing it, so a ciphertext only decrypts where it was
written. Parts are length-prefixed, so no choice of names can make two contexts encode alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from core_alerts.domain.datakeys import data_key_id as data_key_id  # re-exported
from core_alerts.domain.errors import ValidationFailed

RowId = str | int | UUID

_FIELD_CONTEXT = "core-alerts/field/v1"
_DATA_KEY_CONTEXT = "core-alerts/data-key/v1"


@dataclass(frozen=True, slots=True)
class FieldRef:
    """Where an encrypted value lives; a token decrypts only at the ref it was written for.

    `subject` names the person or contact the value belongs to when it is encrypted under that
    subject's own data key (so it can be shredded alone); None means the tenant's data key.
    """

    tenant_id: str
    table: str
    column: str
    row_id: RowId
    subject: str | None = None

    def __post_init__(self) -> None:
        for name in ("tenant_id", "table", "column"):
            if not getattr(self, name):
                raise ValidationFailed(f"{name} must be a non-empty string", field=name)
        if isinstance(self.row_id, str) and not self.row_id:
            raise ValidationFailed("row_id must not be empty", field="row_id")
        if self.subject == "":
            raise ValidationFailed("subject must be None or a non-empty string", field="subject")

    def describe(self) -> str:
        """A short location for error messages (never the value)."""
        where = f"tenant {self.tenant_id!r}, {self.table}.{self.column}, row {self.row_id!s}"
        return f"{where}, subject {self.subject!r}" if self.subject else where


def field_aad(ref: FieldRef, key_id: str) -> bytes:
    return _length_prefixed(
        _FIELD_CONTEXT,
        ref.tenant_id,
        ref.table,
        ref.column,
        str(ref.row_id),
        ref.subject or "",
        key_id,
    )


def data_key_aad(tenant_id: str, subject: str | None, key_id: str, master_key_id: str) -> bytes:
    return _length_prefixed(_DATA_KEY_CONTEXT, tenant_id, subject or "", key_id, master_key_id)


def _length_prefixed(*parts: str) -> bytes:
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8", "surrogatepass")
        out += len(raw).to_bytes(4, "big")
        out += raw
    return bytes(out)
