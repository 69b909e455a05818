"""Alert ids: UUIDv7, unguessable, and in creation order."""

from __future__ import annotations

import time
import uuid

from core_alerts.domain.alert import new_alert_id


def test_ids_are_rfc9562_version_7_uuids() -> None:
    value = uuid.UUID(hex=new_alert_id())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_the_prefix_is_the_creation_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    ms = int(new_alert_id()[:12], 16)
    after = time.time_ns() // 1_000_000
    assert before <= ms <= after


def test_ids_made_later_sort_later_and_never_repeat() -> None:
    ids = [new_alert_id() for _ in range(10_000)]
    prefixes = [i[:12] for i in ids]
    assert prefixes == sorted(prefixes)  # creation order, to the millisecond
    later = [i for i in ids if i[:12] > prefixes[0]]
    assert all(ids[0] < i for i in later)
    assert len(set(ids)) == len(ids)


def test_the_random_part_varies_in_every_bit() -> None:
    """74 random bits: across many ids, each random bit position takes both values."""
    values = [uuid.UUID(hex=new_alert_id()).int for _ in range(2_000)]
    random_bits = [*range(62), *range(64, 76)]
    for bit in random_bits:
        seen = {v >> bit & 1 for v in values}
        assert seen == {0, 1}, f"bit {bit} never changes"
