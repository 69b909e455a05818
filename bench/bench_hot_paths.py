"""Micro-benchmarks of the ingest hot path (pytest-benchmark; they run inside `make test`).

Each benchmark also checks its result, so a broken hot path fails here as a test would.
No assertion is about time: the figures go to docs/performance.md, not to a threshold.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.support.services import temporary_pg_database

from core_alerts.config import LimitSettings
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.fingerprint import fingerprint_labels, fingerprint_reference
from core_alerts.domain.ingest import IngestOutcome, NormalizedAlert, PackedSend, content_digest
from core_alerts.domain.lifecycle import plan_batch
from core_alerts.domain.matchers import Matcher
from core_alerts.ingest.formats._json import decode_json
from core_alerts.ingest.formats.alertmanager import (
    PostableAlert,
    Recalled,
    decode_alertmanager_v2,
    decode_alertmanager_v2_recalling,
)
from core_alerts.ingest.normalize import SourceContext, normalize
from core_alerts.ingest.sendmemo import SendMemo
from core_alerts.store.postgres import PostgresAlertStore
from core_alerts.store.sqlite import SqliteAlertStore

NOW = 1_800_000_000.0
STARTS_AT = "2027-01-15T08:00:00Z"  # before NOW, so no alert is born resolved
LIMITS = LimitSettings()
LABELS = {
    "alertname": "HighLatencyP99",
    "service": "svc-checkout",
    "instance": "svc-checkout-00001234.eu-west-2.internal:9100",
    "job": "node",
    "severity": "warning",
    "tenant": "tenant-07",
    "cluster": "eu-west-2",
    "namespace": "prod",
}
ANNOTATIONS = {
    "summary": "HighLatencyP99 on svc-checkout-00001234.eu-west-2.internal:9100",
    "description": "HighLatencyP99 fired for service svc-checkout in eu-west-2/prod; value=0.93",
}


def ctx() -> SourceContext:
    return SourceContext(
        tenant_id="bench", source="alertmanager", received_at=NOW, limits=LIMITS,
        resolve_timeout=300.0,
    )  # fmt: skip


def am_alert(i: int) -> dict[str, Any]:
    """An alert as Prometheus posts it: 8 labels, 2 annotations, startsAt, generatorURL."""
    labels = {**LABELS, "instance": f"svc-checkout-{i:08d}.eu-west-2.internal:9100"}
    return {
        "labels": labels,
        "annotations": {**ANNOTATIONS, "summary": f"HighLatencyP99 on {labels['instance']}"},
        "startsAt": STARTS_AT,
        "generatorURL": "http://prometheus.eu-west-2.internal/graph?g0.expr=HighLatencyP99",
    }


def am_body(n: int, start: int = 0) -> bytes:
    return json.dumps([am_alert(i) for i in range(start, start + n)]).encode()


def sends_with_repeats(total: int, distinct: int, seed: int = 7) -> list[NormalizedAlert]:
    """`total` sends over `distinct` fingerprints: each once, then random repeats, shuffled."""
    unique = decode_alertmanager_v2(am_body(distinct), ctx())
    rng = random.Random(seed)
    sends = unique + [rng.choice(unique) for _ in range(total - distinct)]
    rng.shuffle(sends)
    return sends


# -- pure functions ----------------------------------------------------------------------


def test_fingerprint_labels_8(benchmark: Any) -> None:
    fp = benchmark(fingerprint_labels, LABELS)
    assert len(fp) == 16
    assert int(fp, 16) >= 0
    assert fp == fingerprint_reference(LABELS)
    assert fp == fingerprint_labels(dict(reversed(LABELS.items())))  # order-independent


def test_json_parse_100(benchmark: Any) -> None:
    """msgspec alone (bytes -> PostableAlert structs), to split decode from normalize."""
    body = am_body(100)
    alerts = benchmark(decode_json, body, list[PostableAlert], max_items=10_000)
    assert len(alerts) == 100
    assert alerts[0].labels == am_alert(0)["labels"]
    assert alerts[99].startsAt is not None


def test_decode_alertmanager_v2_100(benchmark: Any) -> None:
    """Parse, validate, normalize and fingerprint a 100-alert POST /api/v2/alerts body."""
    body = am_body(100)
    context = ctx()
    sends = benchmark(decode_alertmanager_v2, body, context)
    assert len(sends) == 100
    assert len({s.fingerprint for s in sends}) == 100
    assert sends[3].fingerprint == fingerprint_labels(am_alert(3)["labels"])
    assert all(s.ends_at == NOW + 300.0 and not s.ends_at_explicit for s in sends)
    assert {s.severity for s in sends} == {"medium"}  # "warning" maps to medium


def test_decode_alertmanager_v2_100_recalled(benchmark: Any) -> None:
    """The same body again in a decode worker during a storm: every alert is recalled."""
    body = am_body(100)
    context = ctx()
    memo: Recalled = SendMemo()
    decode_alertmanager_v2_recalling(body, context, memo)
    pairs = benchmark(decode_alertmanager_v2_recalling, body, context, memo)
    assert [send for send, _ in pairs] == decode_alertmanager_v2(body, context)
    assert all(digest == content_digest(send) for send, digest in pairs)
    assert len(memo) == 100


def test_normalize(benchmark: Any) -> None:
    context = ctx()
    send = benchmark(
        normalize, context, labels=LABELS, annotations=ANNOTATIONS, starts_at=NOW - 60.0
    )
    assert send.fingerprint == fingerprint_labels(LABELS)
    assert send.title == ANNOTATIONS["summary"]
    assert send.description == ANNOTATIONS["description"]
    assert send.ends_at == NOW + 300.0
    assert len(send.fingerprint) == 16


def test_pack_send(benchmark: Any) -> None:
    """What a decode worker adds per send for ingestion: content digest and packing."""
    context = ctx()
    send = normalize(context, labels=LABELS, annotations=ANNOTATIONS, starts_at=NOW - 60.0)
    packed = benchmark(PackedSend.of, send)
    assert packed.digest == content_digest(send)
    assert len(packed.digest) == 16
    assert packed.unpack() == send


@pytest.mark.parametrize(
    ("op", "value"),
    [("=", "svc-checkout"), ("=~", "svc-(checkout|cart|payments)")],
    ids=["eq", "regex"],
)
def test_matcher_matches(benchmark: Any, op: str, value: str) -> None:
    matcher = Matcher("service", op, value)
    assert benchmark(matcher.matches, LABELS) is True
    assert matcher.matches({**LABELS, "service": "svc-search"}) is False
    assert matcher.matches({}) is False


def test_plan_batch_1000_90pct_repeats(benchmark: Any) -> None:
    """Dedup planning of a group commit: 10 requests x 100 sends over 100 fingerprints."""
    sends = sends_with_repeats(1000, 100)
    requests = [sends[i : i + 100] for i in range(0, 1000, 100)]
    # plan_batch updates `existing` in place: a new empty dict each round.
    plan = benchmark(lambda: plan_batch({}, requests, NOW))
    outcomes = Counter(r.outcome for results in plan.results for r in results)
    assert outcomes == {IngestOutcome.CREATED: 100, IngestOutcome.DEDUPLICATED: 900}
    assert len(plan.inserts) == 100
    assert not plan.updates
    assert sum(rec.occurrences for rec in plan.inserts.values()) == 1000
    assert len(plan.transitions) == 100


def test_plan_batch_1000_packed_repeats(benchmark: Any) -> None:
    """The storm as the decode worker hands it over: 1,000 packed repeats of 100 active
    alerts whose content digests the store knows, planned without unpacking a send."""
    unique = decode_alertmanager_v2(am_body(100), ctx())
    existing: dict[Any, Any] = {}
    created = plan_batch(existing, [[PackedSend.of(s) for s in unique]], NOW, {})
    digests = {k: d for k, d in created.digests.items() if d is not None}
    assert len(digests) == 100
    rng = random.Random(7)
    sends = [PackedSend.of(rng.choice(unique)) for _ in range(1000)]
    requests = [sends[i : i + 100] for i in range(0, 1000, 100)]
    plan = benchmark(lambda: plan_batch(existing, requests, NOW + 1, digests))
    assert {r.outcome for results in plan.results for r in results} == {IngestOutcome.DEDUPLICATED}
    assert sum(len(u) for u in plan.unchanged) == 1000
    assert all(s._unpacked is None for s in sends)


# -- the SQLite store (one fsync per commit: synchronous=FULL, as served) -------------------


class StoreRounds:
    """pedantic setup/teardown: each round gets a fresh store on a new file.

    Whatever a round leaves open (pytest-benchmark skips teardown when disabled) is closed
    by `close_all`, so no loop or writer thread outlives the test.
    """

    def __init__(self, tmp_path: Path, sends: list[NormalizedAlert], stored_first: list) -> None:
        self.tmp_path = tmp_path
        self.sends = sends
        self.stored_first = stored_first
        self.open: list[tuple[asyncio.AbstractEventLoop, SqliteAlertStore]] = []
        self.made = itertools.count()

    def setup(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        loop = asyncio.new_event_loop()
        path = self.tmp_path / f"bench-{next(self.made)}.db"  # a new file every round
        store = SqliteAlertStore(str(path), clock=FixedClock(NOW))
        self.open.append((loop, store))
        loop.run_until_complete(store.open())
        if self.stored_first:
            loop.run_until_complete(store.apply_sends(self.stored_first))
        return (loop, store, self.sends), {}

    @staticmethod
    def apply(loop: asyncio.AbstractEventLoop, store: SqliteAlertStore, sends: list) -> list:
        return loop.run_until_complete(store.apply_sends(sends))

    def teardown(self, loop: asyncio.AbstractEventLoop, store: SqliteAlertStore, _: list) -> None:
        self.open.remove((loop, store))
        loop.run_until_complete(store.close())
        loop.close()

    def close_all(self) -> None:
        while self.open:
            self.teardown(*self.open[-1], [])


def storm_batch(seed: int = 7) -> tuple[list[NormalizedAlert], list[NormalizedAlert]]:
    """(batch, stored first) as alertload --dup-ratio 0.9 --hot 1000 sends in steady state.

    The 1,000 hot alerts are already stored; the batch repeats 900 of them at random and
    brings 100 new fingerprints, so it touches several hundred distinct rows.
    """
    hot = decode_alertmanager_v2(am_body(1000), ctx())
    repeats = decode_alertmanager_v2(am_body(1000), ctx())
    rng = random.Random(seed)
    sends = [rng.choice(repeats) for _ in range(900)]
    sends += decode_alertmanager_v2(am_body(100, start=1000), ctx())
    rng.shuffle(sends)
    return sends, hot


@pytest.mark.parametrize("case", ["dup0", "dup0.9-hot-stored", "dup0.9-in-batch"])
def test_sqlite_apply_sends_1000(benchmark: Any, tmp_path: Path, case: str) -> None:
    """One 1,000-alert request through group commit into a fresh SQLite file.

    dup0: 1,000 new fingerprints (1,000 inserts). dup0.9-hot-stored: see `storm_batch`
    (100 inserts, one update per distinct hot alert). dup0.9-in-batch: 100 new fingerprints,
    each sent 10 times in the batch (100 inserts; the repeats only change those rows).
    """
    stored: list[NormalizedAlert] = []
    if case == "dup0":
        sends = decode_alertmanager_v2(am_body(1000), ctx())
    elif case == "dup0.9-hot-stored":
        sends, stored = storm_batch()
    else:
        sends = sends_with_repeats(1000, 100)
    rounds = StoreRounds(tmp_path, sends, stored)
    try:
        results = benchmark.pedantic(
            rounds.apply, setup=rounds.setup, teardown=rounds.teardown, rounds=5
        )
    finally:
        rounds.close_all()

    stored_fps = {s.fingerprint for s in stored}
    new_fps = {s.fingerprint for s in sends} - stored_fps
    touched_stored = {s.fingerprint for s in sends} & stored_fps
    assert len(results) == 1000
    outcomes = Counter(r.outcome for r in results)
    assert outcomes[IngestOutcome.CREATED] == len(new_fps)
    assert outcomes[IngestOutcome.DEDUPLICATED] == 1000 - len(new_fps)
    assert len({r.alert_id for r in results}) == len(new_fps) + len(touched_stored)
    final: dict[str, int] = {}
    for r in results:
        final[r.alert_id] = max(final.get(r.alert_id, 0), r.occurrences)
    # Every send counted exactly once, on top of the one send that stored each hot alert.
    assert sum(final.values()) == 1000 + len(touched_stored)
    if case == "dup0.9-hot-stored":
        assert len(new_fps) == 100
        assert len(touched_stored) > 500


# -- the PostgreSQL store (synchronous_commit on, as served) --------------------------------


@pytest.fixture(scope="module")
def pg_dsn() -> Iterator[str]:
    with temporary_pg_database() as dsn:
        yield dsn


class PgRounds:
    """One store on one database; each round writes to a tenant of its own (fresh rows)."""

    def __init__(self, dsn: str, sends: list[NormalizedAlert], stored_first: list) -> None:
        self.loop = asyncio.new_event_loop()
        self.store = PostgresAlertStore(dsn, clock=FixedClock(NOW))
        self.loop.run_until_complete(self.store.open())
        self.sends = sends
        self.stored_first = stored_first
        self.made = itertools.count()

    def setup(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        tenant = f"bench-{next(self.made)}"
        mine = [msgspec.structs.replace(s, tenant_id=tenant) for s in self.sends]
        if self.stored_first:
            first = [msgspec.structs.replace(s, tenant_id=tenant) for s in self.stored_first]
            self.loop.run_until_complete(self.store.apply_sends(first))
        return (mine,), {}

    def apply(self, sends: list[NormalizedAlert]) -> list:
        return self.loop.run_until_complete(self.store.apply_sends(sends))

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.mark.parametrize("case", ["dup0", "dup0.9-hot-stored"])
def test_postgres_apply_sends_1000(benchmark: Any, pg_dsn: str, case: str) -> None:
    """One 1,000-alert request through group commit into PostgreSQL (see the SQLite twin)."""
    stored: list[NormalizedAlert] = []
    if case == "dup0":
        sends = decode_alertmanager_v2(am_body(1000), ctx())
    else:
        sends, stored = storm_batch()
    rounds = PgRounds(pg_dsn, sends, stored)
    try:
        results = benchmark.pedantic(rounds.apply, setup=rounds.setup, rounds=5)
    finally:
        rounds.close()
    new_fps = {s.fingerprint for s in sends} - {s.fingerprint for s in stored}
    outcomes = Counter(r.outcome for r in results)
    assert len(results) == 1000
    assert outcomes[IngestOutcome.CREATED] == len(new_fps)
    assert outcomes[IngestOutcome.DEDUPLICATED] == 1000 - len(new_fps)
