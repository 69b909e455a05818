"""Token buckets in Redis: one atomic script per take, so all processes share the limits."""

from __future__ import annotations

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from core_alerts.store.buckets import LocalBuckets

log = structlog.get_logger(__name__)

# KEYS[1] bucket; ARGV rate, burst, now, ttl. Returns the wait in milliseconds (0: taken).
_TAKE = """
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens < 1 then
  return math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 0
"""


class RedisBuckets:
    """While Redis cannot answer, each process falls back to its own buckets (logged): a
    dead Redis must not turn every request into an error."""

    def __init__(self, url: str, *, prefix: str = "core-alerts:bucket:") -> None:
        self._redis = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_TAKE)
        self._prefix = prefix
        self._fallback = LocalBuckets()
        self._failing = False

    async def take(self, key: str, rate: float, burst: float, now: float) -> float:
        ttl = max(1, int(burst / rate) + 1)  # a full bucket needs no key
        try:
            wait_ms = await self._script(keys=[self._prefix + key], args=[rate, burst, now, ttl])
        except RedisError as exc:
            if not self._failing:
                log.warning("Redis cannot serve rate limits; limiting per process", error=str(exc))
                self._failing = True
            return await self._fallback.take(key, rate, burst, now)
        if self._failing:
            log.info("Redis serves rate limits again")
            self._failing = False
        return int(wait_ms) / 1000.0

    async def close(self) -> None:
        await self._redis.aclose()
