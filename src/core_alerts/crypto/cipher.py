"""FieldCipher: encrypt and decrypt field values as tokens, and re-encrypt after rotation."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from core_alerts.crypto.binding import FieldRef, RowId, field_aad
from core_alerts.crypto.datakeys import DataKeys, KeyState
from core_alerts.crypto.errors import DecryptionFailed, MalformedToken
from core_alerts.crypto.keystore import DataKeyStore
from core_alerts.crypto.masterkeys import MasterKeyring
from core_alerts.crypto.tokens import (
    NONCE_BYTES,
    ParsedToken,
    format_token,
    is_encrypted,
    parse_token,
)
from core_alerts.domain.clock import Clock
from core_alerts.domain.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class KeyUsage:
    """How a set of stored values stands against the active data keys."""

    active: int = 0  # tokens on their scope's active key
    old: int = 0  # tokens on an older, still live key: re-encrypt them
    destroyed: int = 0  # tokens on a shredded key: unreadable for good
    plaintext: int = 0  # values never encrypted (written before encryption was enabled)


class FieldCipher:
    """AES-256-GCM field encryption with one data key per tenant (and per subject, if asked).

    Tokens are bound to (tenant, table, column, row id, subject): a token decrypts only at
    the place it was written. Data keys live wrapped in `store`; lifecycle operations
    (rotation, shredding, master-key rewrap) are on `data_keys`.
    """

    def __init__(
        self,
        keyring: MasterKeyring,
        store: DataKeyStore,
        *,
        clock: Clock | None = None,
        cache_ttl: float = 300.0,
        max_cached_scopes: int = 10_000,
    ) -> None:
        self.data_keys = DataKeys(
            keyring, store, clock=clock, cache_ttl=cache_ttl, max_cached_scopes=max_cached_scopes
        )

    async def encrypt(
        self,
        tenant_id: str,
        table: str,
        column: str,
        row_id: RowId,
        plaintext: str,
        *,
        subject: str | None = None,
    ) -> str:
        return await self.encrypt_field(
            FieldRef(tenant_id, table, column, row_id, subject), plaintext
        )

    async def decrypt(
        self,
        tenant_id: str,
        table: str,
        column: str,
        row_id: RowId,
        token: str,
        *,
        subject: str | None = None,
    ) -> str:
        return await self.decrypt_field(FieldRef(tenant_id, table, column, row_id, subject), token)

    async def encrypt_field(self, ref: FieldRef, plaintext: str) -> str:
        try:
            data = plaintext.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(
                f"value for {ref.describe()} is not encodable as UTF-8", field=ref.column
            ) from None
        key_id, cipher = await self.data_keys.active(ref.tenant_id, ref.subject)
        nonce = os.urandom(NONCE_BYTES)  # random per value, never a counter
        return format_token(key_id, nonce, cipher.encrypt(nonce, data, field_aad(ref, key_id)))

    async def decrypt_field(self, ref: FieldRef, token: str) -> str:
        parsed = self._parse_for(ref, token)
        cipher = await self.data_keys.for_version(ref.tenant_id, ref.subject, parsed.version)
        try:
            data = cipher.decrypt(parsed.nonce, parsed.sealed, field_aad(ref, parsed.key_id))
            return data.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptionFailed(
                f"token does not authenticate for {ref.describe()}: it was altered, or "
                "copied from another row, column, table or tenant"
            ) from None

    async def reencrypt(
        self, rows: AsyncIterable[tuple[FieldRef, str]], *, encrypt_plaintext: bool = False
    ) -> AsyncIterator[tuple[FieldRef, str]]:
        """Yield (ref, new token) for each value that is not on its scope's active key.

        Tokens on destroyed keys are skipped: they stay unreadable. Plaintext values are
        encrypted when `encrypt_plaintext` is True and raise MalformedToken otherwise.
        """
        async for ref, value in rows:
            state = await self._state(ref, value)
            if state is None and not encrypt_plaintext:
                raise MalformedToken(f"value at {ref.describe()} is not encrypted")
            if state is KeyState.OLD:
                yield ref, await self.encrypt_field(ref, await self.decrypt_field(ref, value))
            elif state is None:
                yield ref, await self.encrypt_field(ref, value)

    async def key_usage(self, rows: AsyncIterable[tuple[FieldRef, str]]) -> KeyUsage:
        """Count values by key state; `old == 0` proves re-encryption is complete."""
        counts = {"active": 0, "old": 0, "destroyed": 0, "plaintext": 0}
        async for ref, value in rows:
            state = await self._state(ref, value)
            counts["plaintext" if state is None else state.value] += 1
        return KeyUsage(**counts)

    async def _state(self, ref: FieldRef, value: str) -> KeyState | None:
        if not is_encrypted(value):
            return None
        parsed = self._parse_for(ref, value)
        return await self.data_keys.state(ref.tenant_id, ref.subject, parsed.version)

    @staticmethod
    def _parse_for(ref: FieldRef, token: str) -> ParsedToken:
        parsed = parse_token(token)
        if parsed.for_subject and ref.subject is None:
            raise DecryptionFailed(
                f"token for {ref.describe()} was encrypted with a subject's key "
                f"({parsed.key_id}); pass the subject it belongs to"
            )
        if not parsed.for_subject and ref.subject is not None:
            raise DecryptionFailed(
                f"token for {ref.describe()} was encrypted with the tenant's key "
                f"({parsed.key_id}), not with a subject's"
            )
        return parsed
