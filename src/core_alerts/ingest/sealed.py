"""Annotations a tenant marks sensitive are stored encrypted, and revealed when read.

Each value is encrypted with the tenant's data key (AES-256-GCM), bound to the tenant, the
`alerts` table, the column `annotations.<name>` and the alert's fingerprint, so a value
copied to another alert, annotation or tenant does not decrypt.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import structlog

from core_alerts.config.settings import PrivacySettings
from core_alerts.crypto import (
    DecryptionFailed,
    FieldCipher,
    MalformedToken,
    is_encrypted,
    key_id_of,
)
from core_alerts.domain.errors import ConfigError
from core_alerts.domain.ingest import NormalizedAlert
from core_alerts.domain.record import AlertRecord
from core_alerts.store import AlertQuery, AlertStore

TABLE = "alerts"
UNREADABLE = "<undecryptable>"
log = structlog.get_logger(__name__)


class SealedFields:
    def __init__(self, privacy: PrivacySettings, cipher: FieldCipher | None) -> None:
        self._default = frozenset(privacy.encrypt_annotations)
        self._tenants = {t: frozenset(r.encrypt_annotations) for t, r in privacy.tenants.items()}
        self._cipher = cipher
        if cipher is None and (self._default or any(self._tenants.values())):
            raise ConfigError(
                "privacy.encrypt_annotations needs a master key (security.encryption_key, "
                "ALERTS_ENCRYPTION_KEY)"
            )

    def names(self, tenant_id: str) -> frozenset[str]:
        return self._tenants.get(tenant_id, self._default)

    @property
    def active(self) -> bool:
        """Some tenant has annotations to seal (otherwise the ingest path skips this step)."""
        return self._cipher is not None and bool(self._default or any(self._tenants.values()))

    async def seal(self, sends: Iterable[NormalizedAlert]) -> None:
        """Encrypt the sensitive annotations of each send in place, before it is stored."""
        if not self.active:
            return  # the common case: no per-alert work at all
        assert self._cipher is not None
        for send in sends:
            names = self.names(send.tenant_id)
            for name in names & send.annotations.keys():
                send.annotations[name] = await self._cipher.encrypt(
                    send.tenant_id, TABLE, f"annotations.{name}", send.fingerprint,
                    send.annotations[name],
                )  # fmt: skip

    async def reseal(self, store: AlertStore, tenant_id: str) -> int:
        """Re-encrypt the tenant's encrypted annotations that are not on its active data key
        (after `core-alerts keys rotate`); returns how many alerts were rewritten."""
        if self._cipher is None:
            return 0
        active = await self._cipher.data_keys.active_key_id(tenant_id)
        rewritten, cursor = 0, None
        while True:
            page = await store.query(
                tenant_id, AlertQuery(text="enc:v1:", after_seq=cursor, limit=500)
            )
            for rec in page.items:
                stale = {
                    k: v for k, v in rec.annotations.items()
                    if is_encrypted(v) and key_id_of(v) != active
                }  # fmt: skip
                if stale and await self._rewrite(store, rec, stale):
                    rewritten += 1
            if page.next_cursor is None:
                return rewritten
            cursor = page.next_cursor

    async def _rewrite(self, store: AlertStore, rec: AlertRecord, stale: dict[str, str]) -> bool:
        assert self._cipher is not None
        fresh = dict(rec.annotations)
        for name, token in stale.items():
            column = f"annotations.{name}"
            try:
                plain = await self._cipher.decrypt(
                    rec.tenant_id, TABLE, column, rec.fingerprint, token
                )
            except (DecryptionFailed, MalformedToken):
                continue  # shredded or tampered: nothing to carry over
            fresh[name] = await self._cipher.encrypt(
                rec.tenant_id, TABLE, column, rec.fingerprint, plain
            )
        return await store.update_annotations(rec.tenant_id, rec.id, fresh)

    async def reveal(self, records: list[AlertRecord]) -> list[AlertRecord]:
        """Copies of the records with their encrypted annotations decrypted."""
        if self._cipher is None:
            return records
        out = []
        for rec in records:
            shown = await self.reveal_annotations(
                rec.tenant_id, rec.id, rec.fingerprint, rec.annotations
            )
            out.append(rec if shown is rec.annotations else msgspec.structs.replace(
                rec, annotations=shown
            ))  # fmt: skip
        return out

    async def reveal_annotations(
        self, tenant_id: str, alert_id: str, fingerprint: str, annotations: dict[str, str]
    ) -> dict[str, str]:
        """The annotations with encrypted values decrypted (the same dict if none is)."""
        sealed = {k: v for k, v in annotations.items() if is_encrypted(v)}
        if self._cipher is None or not sealed:
            return annotations
        shown = dict(annotations)
        for name, token in sealed.items():
            try:
                shown[name] = await self._cipher.decrypt(
                    tenant_id, TABLE, f"annotations.{name}", fingerprint, token
                )
            except (DecryptionFailed, MalformedToken) as exc:  # tampered, moved, shredded
                log.warning("an encrypted annotation does not decrypt", alert_id=alert_id,
                            annotation=name, error=exc.message)  # fmt: skip
                shown[name] = UNREADABLE
        return shown
