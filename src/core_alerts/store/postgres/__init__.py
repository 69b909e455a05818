"""PostgreSQL backend (asyncpg): schema migrations, group-committed writes, row locks.

Imported only by the composition root. Must not hold business rules (those are in
domain.lifecycle) nor change durability settings such as synchronous_commit.
"""

from core_alerts.store.postgres.access import PostgresAccessStore
from core_alerts.store.postgres.audit import PostgresAuditLog
from core_alerts.store.postgres.notify import PostgresNotifyStore
from core_alerts.store.postgres.store import PostgresAlertStore

__all__ = ["PostgresAccessStore", "PostgresAlertStore", "PostgresAuditLog", "PostgresNotifyStore"]
