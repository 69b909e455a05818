"""Redis backend of the shared counters (distributed mode): rate-limit buckets that every
process of the service draws from.

Imported only by the composition root. Holds no business rules.
"""

from core_alerts.store.redis.buckets import RedisBuckets

__all__ = ["RedisBuckets"]
