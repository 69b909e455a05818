"""Alert ids: UUIDv7, unguessable, and in creation order."""

from __future__ import annotations

import concurrent.futures
import os
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


def test_threads_never_get_the_same_id() -> None:
    """The random part comes from a shared pool: each value is handed out once."""
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: [new_alert_id() for _ in range(3_000)], range(4)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids) == 12_000


def test_a_forked_child_does_not_reuse_its_parents_pending_randomness() -> None:
    new_alert_id()  # the pool now holds values the parent has not handed out yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.write(write, " ".join(new_alert_id()[13:] for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {new_alert_id()[13:] for _ in range(50)}
    assert len(child) == 50
    assert not child & parent
