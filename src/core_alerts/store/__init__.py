"""Storage ports (Protocols) and what every backend shares: the query model and group commit.

Backends live in sqlite/ and postgres/ and are imported only by the composition root (app/).
Every call takes the tenant first. Must not import capabilities or the API.
"""

from core_alerts.store.access import AccessStore
from core_alerts.store.audit import AuditLog, AuditPage, AuditQuery, verify_log
from core_alerts.store.buckets import LocalBuckets, TokenBuckets
from core_alerts.store.groupcommit import GroupCommitter
from core_alerts.store.notify import (
    GroupState,
    Lease,
    LogEntry,
    NotifyStore,
    OutboxEntry,
    OutboxPage,
    OutboxState,
    Outcome,
    StoredConfig,
)
from core_alerts.store.ports import AlertPage, AlertQuery, AlertStore

__all__ = [
    "AccessStore",
    "AlertPage",
    "AlertQuery",
    "AlertStore",
    "AuditLog",
    "AuditPage",
    "AuditQuery",
    "GroupCommitter",
    "GroupState",
    "Lease",
    "LocalBuckets",
    "LogEntry",
    "NotifyStore",
    "OutboxEntry",
    "OutboxPage",
    "OutboxState",
    "Outcome",
    "StoredConfig",
    "TokenBuckets",
    "verify_log",
]
