"""A field cipher on an in-memory key store, under one configured master key."""

from __future__ import annotations

import pytest

from core_alerts.crypto import (
    FieldCipher,
    InMemoryDataKeyStore,
    MasterKeyring,
    generate_master_key,
    parse_master_keys,
)
from core_alerts.domain.clock import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000.0)


@pytest.fixture
def keyring() -> MasterKeyring:
    return parse_master_keys(f"2026a:{generate_master_key()}")


@pytest.fixture
def store() -> InMemoryDataKeyStore:
    return InMemoryDataKeyStore()


@pytest.fixture
def cipher(keyring: MasterKeyring, store: InMemoryDataKeyStore, clock: FixedClock) -> FieldCipher:
    return FieldCipher(keyring, store, clock=clock)
