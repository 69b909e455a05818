"""Large bodies decoded in worker processes give exactly what decoding in place gives."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.config import Settings, load_settings
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import CoreAlertsError, LimitExceeded, MalformedInput
from core_alerts.domain.ingest import PackedSend, content_digest
from core_alerts.ingest import decodepool
from core_alerts.ingest.decodepool import DecodePool
from core_alerts.ingest.decodewire import DecodeJob
from core_alerts.ingest.engine import AlertEngine

NOW = 1_800_000_000.0


def v2_alert(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "labels": {"alertname": f"Disk{i % 7}", "instance": f"node-{i}", "severity": "critical"},
        "annotations": {"summary": f"disk full on node-{i}", "owner": f"ops{i}@example.com"},
        "startsAt": "2026-12-01T10:00:00Z",
        "generatorURL": f"http://prometheus/graph?g0.expr=disk{i}",
        **extra,
    }


def v2_body(n: int, **extra: Any) -> bytes:
    return json.dumps([v2_alert(i, **extra) for i in range(n)]).encode()


GENERIC = {"shop": {"title": "event.name", "labels": "event.tags", "severity": "event.level"}}


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return load_settings(
        {
            "database": {"sqlite_path": str(tmp_path / "d.db")},
            "processing": {"decode_workers": 1, "decode_offload_bytes": 0},
            "receivers": {"generic": GENERIC},
            "privacy": {"detect": ["email"]},
            **extra,
        },
        environ={},
    )


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AlertEngine]:
    orch = EngineOrchestrator(settings=settings(tmp_path), clock=FixedClock(NOW))
    await orch.start_all()
    pool = orch.alert_engine.decode_pool
    assert pool is not None
    await pool.start()
    yield orch.alert_engine
    await orch.stop_all()


def as_data(sends: list[Any]) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(s) for s in sends]


BODIES = {
    "alertmanager": v2_body(300),
    "native": json.dumps(
        [{"title": f"t{i}", "severity": "high", "labels": {"i": str(i)}} for i in range(50)]
    ).encode(),
    "generic:shop": json.dumps(
        {"event": {"name": "Checkout down", "tags": {"svc": "cart"}, "level": "critical"}}
    ).encode(),
    "grafana": json.dumps(
        {
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "CPU", "x": str(i)},
                    "annotations": {"summary": "mail bob@example.com"},
                }
                for i in range(20)
            ]
        }
    ).encode(),
}


@pytest.mark.parametrize("fmt", sorted(BODIES))
async def test_a_worker_decodes_what_the_service_would(engine: AlertEngine, fmt: str) -> None:
    body = BODIES[fmt]
    assert engine.decode_pool is not None and engine.decode_pool.wants(body)
    pooled = await engine.decode_async(fmt, body, tenant_id="acme")
    in_place = engine.decode(fmt, body, tenant_id="acme")
    assert pooled and as_data(pooled) == as_data(in_place)


@pytest.mark.parametrize("fmt", sorted(BODIES))
async def test_packed_sends_unpack_to_what_the_service_would_decode(
    engine: AlertEngine, fmt: str
) -> None:
    body = BODIES[fmt]
    pool = engine.decode_pool
    assert pool is not None
    ctx = engine.context("acme", fmt, fmt)
    job = DecodeJob(fmt, body, "acme", fmt, ctx.received_at, ctx.resolve_timeout, packed=True)
    in_place = engine.decode(fmt, body, tenant_id="acme")
    first = await pool.decode_packed(job, lambda: pytest.fail("decoded in place"))
    # The second time, the worker recalls repeated Alertmanager sends instead of making them.
    packed = await pool.decode_packed(job, lambda: pytest.fail("decoded in place"))
    assert all(isinstance(p, PackedSend) for p in packed)
    assert as_data([p.unpack() for p in first]) == as_data(in_place)
    assert as_data([p.unpack() for p in packed]) == as_data(in_place)
    for p, send in zip(packed, in_place, strict=True):
        assert p.digest == content_digest(send)
        assert (p.tenant_id, p.fingerprint, p.action, p.severity, p.ends_at, p.alert_id) == (
            send.tenant_id, send.fingerprint, send.action, send.severity, send.ends_at,
            send.alert_id,
        )  # fmt: skip


async def test_the_tenants_privacy_rules_apply_in_the_worker(engine: AlertEngine) -> None:
    [first, *_] = await engine.decode_async("alertmanager", v2_body(50), tenant_id="acme")
    assert first.annotations["owner"] == "<email>"


BAD = [
    (b'[{"labels": {"bad-name": "x"}}]', "invalid label name 'bad-name'"),
    (b'[{"labels": {"a": "x"}', "the body is not valid JSON"),
    (b'[{"labels": {"a": "x"}, "startsAt": "yesterday"}]', "invalid payload"),
    (json.dumps([{"labels": {"a": "\x00"}}]).encode(), "NUL"),
    (v2_body(3, endsAt="2026-12-01T09:00:00Z"), "endsAt is before startsAt"),
    (b"\xef\xbb\xbf[]", "byte-order mark"),
]


@pytest.mark.parametrize(("body", "says"), BAD)
async def test_a_bad_body_gets_the_same_error_either_way(
    engine: AlertEngine, body: bytes, says: str
) -> None:
    with pytest.raises(CoreAlertsError) as pooled:
        await engine.decode_async("alertmanager", body, tenant_id="acme")
    with pytest.raises(CoreAlertsError) as in_place:
        engine.decode("alertmanager", body, tenant_id="acme")
    assert says in pooled.value.message
    assert type(pooled.value) is type(in_place.value)
    assert pooled.value.message == in_place.value.message
    assert pooled.value.field == in_place.value.field
    assert getattr(pooled.value, "index", None) == getattr(in_place.value, "index", None)


async def test_a_batch_over_the_limit_is_refused_by_the_worker(tmp_path: Path) -> None:
    pool = DecodePool(settings(tmp_path, limits={"max_alerts_per_request": 10}), 1, 0)
    await pool.start()
    try:
        job = DecodeJob("alertmanager", v2_body(11), "acme", "alertmanager", NOW, 300.0)
        with pytest.raises(LimitExceeded, match="the limit is 10"):
            await pool.decode(job, lambda: pytest.fail("decoded in place"))
    finally:
        await pool.close()


async def test_a_dead_worker_is_replaced_and_its_body_decoded_in_place(
    engine: AlertEngine,
) -> None:
    pool = engine.decode_pool
    assert pool is not None and pool.worker_pids()
    for pid in pool.worker_pids():  # what an OOM kill would do
        os.kill(pid, signal.SIGKILL)
    body = v2_body(40)
    expected = as_data(engine.decode("alertmanager", body, tenant_id="acme"))
    assert as_data(await engine.decode_async("alertmanager", body, tenant_id="acme")) == expected
    await pool.start()  # the replacement workers are up
    assert pool.wants(body) and pool.worker_pids()
    assert as_data(await engine.decode_async("alertmanager", body, tenant_id="acme")) == expected


async def test_workers_start_on_the_first_large_body_and_small_ones_stay_here(
    tmp_path: Path,
) -> None:
    pool = DecodePool(settings(tmp_path), 1, 1024)
    try:
        assert not pool.wants(b"[]")
        assert pool._starting is None  # a small body starts nothing
        big = v2_body(30)
        assert not pool.wants(big)  # the first large body starts the workers, decoded here
        assert pool._starting is not None
        await pool._starting
        assert pool.wants(big) and not pool.wants(b"[]")
    finally:
        await pool.close()
    assert not pool.wants(big)  # closed: everything is decoded in place


async def test_a_closed_pool_decodes_in_place(tmp_path: Path) -> None:
    pool = DecodePool(settings(tmp_path), 1, 0)
    await pool.start()
    await pool.close()
    job = DecodeJob("alertmanager", b"[]", "acme", "alertmanager", NOW, None)
    with pytest.raises(MalformedInput, match="here"):
        await pool.decode(job, lambda: (_ for _ in ()).throw(MalformedInput("here")))


async def test_a_worker_that_cannot_start_leaves_decoding_in_place_and_is_not_retried_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decodepool, "WORKER_MODULE", "core_alerts.no_such_module")
    pool = DecodePool(settings(tmp_path), 1, 0)
    try:
        await pool.start()  # the interpreter exits at once: no worker
        assert pool.worker_pids() == []
        assert not pool.wants(v2_body(5))  # in place, and no new attempt within the backoff
        assert pool._starting is not None and pool._starting.done()
        job = DecodeJob("alertmanager", v2_body(5), "acme", "alertmanager", NOW, 300.0)
        assert await pool.decode(job, list) == []  # the fallback decoded it
    finally:
        await pool.close()


async def test_an_unexpected_error_is_raised_by_the_service_and_the_worker_lives_on(
    engine: AlertEngine,
) -> None:
    pool = engine.decode_pool
    assert pool is not None
    [pid] = pool.worker_pids()
    job = DecodeJob("no-such-format", b"[]", "acme", "test", NOW, None)  # KeyError in there

    def in_place() -> list[Any]:
        raise LookupError("raised where the traceback is logged")

    with pytest.raises(LookupError, match="traceback is logged"):
        await pool.decode(job, in_place)
    assert pool.worker_pids() == [pid]
    body = v2_body(20)
    assert as_data(await engine.decode_async("alertmanager", body, tenant_id="acme")) == as_data(
        engine.decode("alertmanager", body, tenant_id="acme")
    )


def test_the_default_is_one_process_per_cpu_beyond_the_first() -> None:
    proc = load_settings({}, environ={}).processing
    assert proc.decode_processes() == max(0, min(3, (os.cpu_count() or 1) - 1))
    assert load_settings({"processing": {"decode_workers": 0}}, environ={}).processing \
        .decode_processes() == 0  # fmt: skip


async def test_ingest_through_the_workers_stores_and_deduplicates(engine: AlertEngine) -> None:
    body = v2_body(200)
    first = await engine.ingest_payload("alertmanager", body, tenant_id="acme")
    again = await engine.ingest_payload("alertmanager", body, tenant_id="acme")
    assert {r.outcome.value for r in first} == {"created"}
    assert {r.outcome.value for r in again} == {"deduplicated"}
    assert [r.alert_id for r in again] == [r.alert_id for r in first]
    stored = await engine.store.get("acme", first[5].alert_id)
    assert stored is not None and stored.labels["instance"] == "node-5"
    assert stored.occurrences == 2 and stored.first_seen == NOW  # the service's clock


async def test_bodies_come_packed_while_repeats_are_common(
    engine: AlertEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[set[str]] = []
    real = engine.store.apply_sends

    async def spy(sends: Any) -> Any:
        seen.append({type(s).__name__ for s in sends})
        return await real(sends)

    monkeypatch.setattr(engine.store, "apply_sends", spy)

    async def post(first: int) -> None:
        body = json.dumps([v2_alert(first + i) for i in range(100)]).encode()
        await engine.ingest_payload("alertmanager", body, tenant_id="acme")

    await post(0)
    assert seen[-1] == {"PackedSend"}  # a storm is the case to be ready for
    for batch in range(1, 12):  # new alerts only: few repeats, packing would cost more
        await post(batch * 1000)
    assert engine.repeat_share < 0.3
    assert seen[-1] == {"NormalizedAlert"}
    for _ in range(12):  # the same alerts again and again
        await post(0)
    assert engine.repeat_share > 0.3
    assert seen[-1] == {"PackedSend"}
    # A store that cannot plan from digests (PostgreSQL) would only unpack them all.
    monkeypatch.setattr(engine.store, "plans_from_digests", False)
    await post(0)
    assert seen[-1] == {"NormalizedAlert"}


async def test_a_packed_ingest_survives_a_dead_worker(engine: AlertEngine) -> None:
    pool = engine.decode_pool
    assert pool is not None and pool.worker_pids() and engine.repeat_share >= 0.3
    body = v2_body(40)
    first = await engine.ingest_payload("alertmanager", body, tenant_id="acme")
    for pid in pool.worker_pids():  # an OOM kill between two requests
        os.kill(pid, signal.SIGKILL)
    again = await engine.ingest_payload("alertmanager", body, tenant_id="acme")
    assert [r.alert_id for r in again] == [r.alert_id for r in first]
    assert {(r.outcome.value, r.occurrences) for r in again} == {("deduplicated", 2)}
