"""Field encryption: AES-256-GCM tokens under per-tenant data keys wrapped by master keys.

Owns the token format, master-key parsing, data-key lifecycle (rotation, rewrap, shredding)
and the DataKeyStore port. Must not read the environment or files (callers pass the master
key string in), and imports nothing of ours but core_alerts.domain.
"""

from core_alerts.crypto.binding import FieldRef, RowId
from core_alerts.crypto.cipher import FieldCipher, KeyUsage
from core_alerts.crypto.datakeys import DataKeys, KeyState
from core_alerts.crypto.errors import (
    DataKeyDestroyed,
    DataKeyUnavailable,
    DecryptionFailed,
    MalformedToken,
    MasterKeyNotConfigured,
)
from core_alerts.crypto.keystore import DataKeyStore, InMemoryDataKeyStore, WrappedDataKey
from core_alerts.crypto.masterkeys import (
    DEFAULT_SETTING,
    GENERATE_COMMAND,
    MasterKey,
    MasterKeyring,
    generate_master_key,
    key_weakness,
    parse_master_keys,
)
from core_alerts.crypto.tokens import is_encrypted, key_id_of

__all__ = [
    "DEFAULT_SETTING",
    "GENERATE_COMMAND",
    "DataKeyDestroyed",
    "DataKeyStore",
    "DataKeyUnavailable",
    "DataKeys",
    "DecryptionFailed",
    "FieldCipher",
    "FieldRef",
    "InMemoryDataKeyStore",
    "KeyState",
    "KeyUsage",
    "MalformedToken",
    "MasterKey",
    "MasterKeyNotConfigured",
    "MasterKeyring",
    "RowId",
    "WrappedDataKey",
    "generate_master_key",
    "is_encrypted",
    "key_id_of",
    "key_weakness",
    "parse_master_keys",
]
