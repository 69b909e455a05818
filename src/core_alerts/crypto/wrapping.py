"""Envelope encryption of data keys: wrap a data key under a master key, and unwrap it."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core_alerts.crypto.binding import data_key_aad, data_key_id
from core_alerts.crypto.errors import DataKeyDestroyed, DecryptionFailed
from core_alerts.crypto.keystore import WrappedDataKey
from core_alerts.crypto.masterkeys import MasterKey, MasterKeyring
from core_alerts.crypto.tokens import NONCE_BYTES

DATA_KEY_BITS = 256


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=DATA_KEY_BITS)


def wrap(
    master: MasterKey, tenant_id: str, subject: str | None, version: int, secret: bytes
) -> WrappedDataKey:
    """Encrypt `secret` under `master`, bound to the key's identity and the master key id."""
    nonce = os.urandom(NONCE_BYTES)
    aad = data_key_aad(tenant_id, subject, data_key_id(version, subject), master.key_id)
    sealed = AESGCM(master.secret).encrypt(nonce, secret, aad)
    return WrappedDataKey(tenant_id, subject, version, master.key_id, nonce + sealed)


def unwrap(keyring: MasterKeyring, record: WrappedDataKey) -> bytes:
    """The data key in `record`; raises DataKeyDestroyed, MasterKeyNotConfigured or
    DecryptionFailed (the record was altered or copied to another identity)."""
    where = f"data key {record.key_id} of tenant {record.tenant_id!r}"
    if record.wrapped is None or record.master_key_id is None:
        raise DataKeyDestroyed(f"{where} was destroyed (crypto-shredded)")
    master = keyring.get(record.master_key_id)
    aad = data_key_aad(record.tenant_id, record.subject, record.key_id, master.key_id)
    nonce, sealed = record.wrapped[:NONCE_BYTES], record.wrapped[NONCE_BYTES:]
    try:
        return AESGCM(master.secret).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise DecryptionFailed(
            f"{where} does not unwrap under master key {master.key_id!r}: the configured key "
            "with that id is not the one that wrapped it, or the stored record was altered"
        ) from None
