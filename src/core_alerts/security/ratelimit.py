"""Token buckets per tenant and per credential: a noisy caller gets 429, the others do not.

Buckets live in the process; with several processes each enforces the limit on its own
share of the traffic.
"""

from __future__ import annotations

from core_alerts.domain.errors import RateLimited

_MAX_BUCKETS = 100_000


class RateLimiter:
    def __init__(self, rate: float, burst: float) -> None:
        """`rate` requests per second on average, up to `burst` at once; rate 0 disables."""
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated at)

    def take(self, key: str, now: float, what: str) -> None:
        if self.rate <= 0:
            return
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            wait = (1.0 - tokens) / self.rate
            raise RateLimited(
                f"{what} is over its limit of {self.rate:g} requests/s; slow down",
                retry_after=wait,
            )
        if len(self._buckets) >= _MAX_BUCKETS:
            self._buckets.clear()  # a bounded table; a forgotten bucket starts full
        self._buckets[key] = (tokens - 1.0, now)
