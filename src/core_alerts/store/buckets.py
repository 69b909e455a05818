"""The TokenBuckets port: rate-limit counters, in the process or shared (Redis)."""

from __future__ import annotations

from typing import Protocol


class TokenBuckets(Protocol):
    async def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Take one token from bucket `key` (refilled at `rate` per second, holding at most
        `burst`); return 0 when taken, else the seconds until one is available."""
        ...

    async def close(self) -> None: ...


class LocalBuckets:
    """Buckets in this process: each process limits its own share of the traffic."""

    _MAX = 100_000

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated at)

    async def take(self, key: str, rate: float, burst: float, now: float) -> float:
        tokens, at = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + max(0.0, now - at) * rate)
        if tokens < 1.0:
            return (1.0 - tokens) / rate
        if len(self._buckets) >= self._MAX:
            self._buckets.clear()  # bounded; a forgotten bucket starts full
        self._buckets[key] = (tokens - 1.0, now)
        return 0.0

    async def close(self) -> None:
        self._buckets.clear()
