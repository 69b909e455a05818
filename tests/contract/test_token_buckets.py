"""The TokenBuckets contract, in the process and in a real Redis; Redis buckets are shared
by every instance (every process of the service)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from core_alerts.store import LocalBuckets, TokenBuckets
from core_alerts.store.redis import RedisBuckets
from tests.support.services import missing, port_open

REDIS = "redis://127.0.0.1:6379/0"


def redis_or_skip() -> None:
    if not port_open("127.0.0.1", 6379):
        missing("Redis on 127.0.0.1:6379")


@pytest.fixture(params=["local", "redis"])
async def buckets(request: pytest.FixtureRequest) -> AsyncIterator[TokenBuckets]:
    b: TokenBuckets
    if request.param == "redis":
        redis_or_skip()
        b = RedisBuckets(REDIS, prefix=f"test-{uuid.uuid4().hex}:")
    else:
        b = LocalBuckets()
    yield b
    await b.close()


async def test_a_bucket_gives_its_burst_then_waits_and_refills(buckets: TokenBuckets) -> None:
    now = 1_000.0
    assert [await buckets.take("k", 2.0, 3.0, now) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await buckets.take("k", 2.0, 3.0, now) == pytest.approx(0.5, abs=0.001)
    assert await buckets.take("other", 2.0, 3.0, now) == 0.0  # keys are independent
    assert await buckets.take("k", 2.0, 3.0, now + 0.5) == 0.0  # one token came back
    assert await buckets.take("k", 2.0, 3.0, now + 0.5) > 0


async def test_redis_buckets_are_shared_by_every_instance() -> None:
    redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex}:"
    first, second = RedisBuckets(REDIS, prefix=prefix), RedisBuckets(REDIS, prefix=prefix)
    try:
        now = 5_000.0
        assert await first.take("tenant:acme", 1.0, 2.0, now) == 0.0
        assert await second.take("tenant:acme", 1.0, 2.0, now) == 0.0
        assert await first.take("tenant:acme", 1.0, 2.0, now) == pytest.approx(1.0)
        assert await second.take("tenant:acme", 1.0, 2.0, now) == pytest.approx(1.0)
    finally:
        await first.close()
        await second.close()


async def test_the_service_shares_its_limits_through_redis_when_configured() -> None:
    from core_alerts.app import EngineOrchestrator
    from core_alerts.config import load_settings

    shared = EngineOrchestrator(settings=load_settings({"redis": {"url": REDIS}}, environ={}))
    alone = EngineOrchestrator(settings=load_settings({}, environ={}))
    assert isinstance(shared.security_manager.buckets, RedisBuckets)
    assert isinstance(alone.security_manager.buckets, LocalBuckets)
    await shared.security_manager.buckets.close()


async def test_a_dead_redis_falls_back_to_per_process_limits() -> None:
    from tests.support.services import free_port

    dead = RedisBuckets(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        now = 9_000.0
        assert await dead.take("k", 1.0, 1.0, now) == 0.0  # no error: limits still hold
        assert await dead.take("k", 1.0, 1.0, now) == pytest.approx(1.0)
    finally:
        await dead.close()
