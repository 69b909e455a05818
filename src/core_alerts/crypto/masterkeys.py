"""Master keys: parse the configured key list and refuse keys that are not 32 random bytes.

Format (one string, as in ALERTS_ENCRYPTION_KEY): comma-separated entries, the first one
active, each `<key-id>:<base64>` or a bare `<base64>`. Standard or urlsafe base64, padding
optional, of exactly 32 bytes. A bare key's id is derived from the key itself, so it stays the
same when ids are added to other entries later. Key ids: letters, digits, `.`, `_`, `-`, up to
32 characters, starting with a letter or digit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import re
import secrets
from dataclasses import dataclass, field

from core_alerts.crypto.errors import MasterKeyNotConfigured
from core_alerts.domain.errors import ConfigError

DEFAULT_SETTING = "ALERTS_ENCRYPTION_KEY"
KEY_BYTES = 32
GENERATE_COMMAND = (
    'python -c "import secrets,base64;'
    'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"'
)
_HOW_TO_FIX = f"generate a random key with: {GENERATE_COMMAND}"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
# 32 random bytes show fewer distinct values than this with probability below 1e-16.
_MIN_DISTINCT_BYTES = 16
_MAX_PATTERN = 16


@dataclass(frozen=True, slots=True)
class MasterKey:
    key_id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class MasterKeyring:
    """The configured master keys; `keys[0]` wraps new data keys, all of them unwrap.

    `ephemeral` is True when dev mode made up a key because none was configured; `warning`
    then says so in a sentence the caller should log.
    """

    keys: tuple[MasterKey, ...]
    ephemeral: bool = False
    warning: str | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigError("a master keyring needs at least one key")
        ids = [key.key_id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"master key ids must be unique, got {ids}")

    @property
    def active(self) -> MasterKey:
        return self.keys[0]

    def get(self, key_id: str) -> MasterKey:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        configured = ", ".join(key.key_id for key in self.keys)
        raise MasterKeyNotConfigured(
            f"master key {key_id!r} is not configured (configured: {configured}); keep it "
            "in the key list until every data key has been rewrapped under the active key"
        )


def generate_master_key() -> str:
    """A new master key: urlsafe base64 of 32 random bytes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_master_keys(
    value: str | None, *, dev_mode: bool = False, setting: str = DEFAULT_SETTING
) -> MasterKeyring:
    """Parse the configured key list; `setting` names it in error messages.

    A missing or blank value is a ConfigError, except in dev mode, where it yields a random
    ephemeral key and a warning. Malformed or weak keys are refused in dev mode too.
    """
    if value is None or not value.strip():
        if dev_mode:
            return _ephemeral_keyring(setting)
        raise ConfigError(
            f"{setting} is not set; field encryption needs a master key: {_HOW_TO_FIX}",
            field=setting,
        )
    keys = [_parse_entry(entry, n, setting) for n, entry in enumerate(value.split(","), 1)]
    ids = [key.key_id for key in keys]
    duplicates = sorted({key_id for key_id in ids if ids.count(key_id) > 1})
    if duplicates:
        raise ConfigError(f"{setting}: key id used twice: {', '.join(duplicates)}", field=setting)
    return MasterKeyring(tuple(keys))


def key_weakness(secret: bytes) -> str | None:
    """Why `secret` is obviously not random, or None if no check finds fault with it."""
    distinct = len(set(secret))
    if not any(secret):
        return "all bytes are zero"
    if distinct == 1:
        return "all bytes are equal"
    if len({(b - a) % 256 for a, b in itertools.pairwise(secret)}) == 1:
        return "the bytes form a counting sequence"
    for period in range(2, _MAX_PATTERN + 1):
        if secret[period:] == secret[:-period]:
            return f"it repeats a {period}-byte pattern"
    if all(0x20 <= b < 0x7F for b in secret):
        return "it is printable text (a password or phrase), not random bytes"
    if distinct < _MIN_DISTINCT_BYTES:
        return f"it has only {distinct} distinct byte values (random keys have about 30)"
    return None


def _parse_entry(entry: str, number: int, setting: str) -> MasterKey:
    entry = entry.strip()
    if not entry:
        raise ConfigError(
            f"{setting}: entry {number} is empty (entries are separated by commas)",
            field=setting,
        )
    key_id, sep, encoded = entry.rpartition(":")
    label = f"key {key_id!r}" if sep else f"entry {number}"
    if sep and _KEY_ID.fullmatch(key_id) is None:
        raise ConfigError(
            f"{setting}: entry {number} has an invalid key id (use letters, digits, '.', '_' "
            "or '-', at most 32 characters, as in 2026a:<base64>)",
            field=setting,
        )
    secret = _decode_key(encoded.strip(), label, setting)
    weakness = key_weakness(secret)
    if weakness is not None:
        raise ConfigError(
            f"{setting}: {label} is too weak: {weakness}; {_HOW_TO_FIX}", field=setting
        )
    return MasterKey(key_id if sep else _derived_key_id(secret), secret)


def _decode_key(encoded: str, label: str, setting: str) -> bytes:
    standard = encoded.replace("-", "+").replace("_", "/")
    try:
        secret = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"{setting}: {label} is not base64; {_HOW_TO_FIX}", field=setting
        ) from None
    if len(secret) != KEY_BYTES:
        hint = " (it looks like hex; give base64 instead)" if _HEX.fullmatch(encoded) else ""
        raise ConfigError(
            f"{setting}: {label} decodes to {len(secret)} bytes, not {KEY_BYTES}{hint}; "
            f"{_HOW_TO_FIX}",
            field=setting,
        )
    return secret


def _derived_key_id(secret: bytes) -> str:
    # A hash prefix of a 256-bit random key identifies it without revealing anything usable.
    return "k" + hashlib.sha256(b"core-alerts/master-key-id\x00" + secret).hexdigest()[:10]


def _ephemeral_keyring(setting: str) -> MasterKeyring:
    key = MasterKey(f"dev-{secrets.token_hex(4)}", secrets.token_bytes(KEY_BYTES))
    warning = (
        f"{setting} is not set: dev mode encrypts fields with a random master key that lives "
        "only in this process, so encrypted values written now cannot be read after a "
        f"restart. Set {setting} before storing real data: {_HOW_TO_FIX}"
    )
    return MasterKeyring((key,), ephemeral=True, warning=warning)
