"""Choose the storage and bus backends from Settings (the only place that imports them)."""

from __future__ import annotations

from typing import Protocol

from core_alerts.bus import EventBus
from core_alerts.bus.inproc import InProcessBus
from core_alerts.config import Settings
from core_alerts.domain.clock import Clock
from core_alerts.domain.datakeys import DataKeyStore
from core_alerts.store import (
    AccessStore,
    AlertStore,
    AuditLog,
    LocalBuckets,
    NotifyStore,
    TokenBuckets,
)
from core_alerts.telemetry import MetricsCollector


def build_store(settings: Settings, clock: Clock, metrics: MetricsCollector) -> AlertStore:
    db = settings.database
    proc = settings.processing
    if db.backend == "postgres":
        from core_alerts.store.postgres import PostgresAlertStore

        return PostgresAlertStore(
            db.dsn(),
            clock=clock,
            pool_size=db.pool_size,
            connect_timeout=db.connect_timeout,
            max_group_sends=proc.batch_processing_size,
            max_pending=proc.max_concurrent_alerts,
            on_group=metrics.record_group,
            app_role=db.app_role,
        )
    from core_alerts.store.sqlite import SqliteAlertStore

    return SqliteAlertStore(
        db.sqlite_path,
        clock=clock,
        synchronous=db.synchronous,
        max_group_sends=proc.batch_processing_size,
        max_pending=proc.max_concurrent_alerts,
        on_group=metrics.record_group,
    )


def build_bus(settings: Settings) -> EventBus:
    return InProcessBus()


class AccessAndKeys(AccessStore, DataKeyStore, Protocol):
    """Both backends keep credentials and encryption data keys in one store."""


def build_access_store(settings: Settings) -> AccessAndKeys:
    db = settings.database
    if db.backend == "postgres":
        from core_alerts.store.postgres import PostgresAccessStore

        return PostgresAccessStore(db.dsn(), connect_timeout=db.connect_timeout)
    from core_alerts.store.sqlite import SqliteAccessStore

    return SqliteAccessStore(db.sqlite_path)


def build_audit_log(settings: Settings, clock: Clock, key: bytes | None) -> AuditLog:
    db = settings.database
    if db.backend == "postgres":
        from core_alerts.store.postgres import PostgresAuditLog

        return PostgresAuditLog(
            db.dsn(), key=key, clock=clock, connect_timeout=db.connect_timeout,
            app_role=db.app_role,
        )  # fmt: skip
    from core_alerts.store.sqlite import SqliteAuditLog

    return SqliteAuditLog(db.sqlite_path, key=key, clock=clock, synchronous=db.synchronous)


def build_notify_store(settings: Settings, clock: Clock) -> NotifyStore:
    db = settings.database
    if db.backend == "postgres":
        from core_alerts.store.postgres import PostgresNotifyStore

        return PostgresNotifyStore(
            db.dsn(), connect_timeout=db.connect_timeout, app_role=db.app_role, clock=clock
        )
    from core_alerts.store.sqlite import SqliteNotifyStore

    # NORMAL, not FULL: in WAL mode a process crash loses nothing either way; a power loss
    # can roll back the last notification writes, which only makes them happen again (the
    # alerts, committed FULL, are re-routed and the rolled-back log re-notifies, with the
    # idempotency keys telling receivers it is a repeat). It halves fsyncs on the busy path.
    return SqliteNotifyStore(db.sqlite_path, synchronous="NORMAL", clock=clock)


def build_buckets(settings: Settings) -> TokenBuckets:
    """Rate-limit buckets: shared through Redis when redis.url is set, else per process."""
    if settings.redis.url:
        from core_alerts.store.redis import RedisBuckets

        return RedisBuckets(settings.redis.url)
    return LocalBuckets()
