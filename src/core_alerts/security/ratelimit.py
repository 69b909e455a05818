"""Rate limits per tenant and per credential: a noisy caller gets 429, the others do not.

The buckets are in the process, or shared by every process through Redis when `redis.url`
is set (the composition root picks).
"""

from __future__ import annotations

from core_alerts.domain.errors import RateLimited
from core_alerts.store.buckets import TokenBuckets


class RateLimiter:
    def __init__(self, buckets: TokenBuckets, scope: str, rate: float, burst: float) -> None:
        """`rate` requests per second on average, up to `burst` at once; rate 0 disables."""
        self._buckets = buckets
        self._scope = scope
        self.rate = rate
        self.burst = max(burst, 1.0)

    async def take(self, key: str, now: float, what: str) -> None:
        if self.rate <= 0:
            return
        wait = await self._buckets.take(f"{self._scope}:{key}", self.rate, self.burst, now)
        if wait > 0:
            raise RateLimited(
                f"{what} is over its limit of {self.rate:g} requests/s; slow down",
                retry_after=wait,
            )
