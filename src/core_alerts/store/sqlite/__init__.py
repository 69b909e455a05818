"""SQLite backend (the embedded default): WAL, one writer thread with group commit.

Imported only by the composition root. Must not hold business rules: those are in
domain.lifecycle.
"""

from core_alerts.store.sqlite.access import SqliteAccessStore
from core_alerts.store.sqlite.audit import SqliteAuditLog
from core_alerts.store.sqlite.notify import SqliteNotifyStore
from core_alerts.store.sqlite.store import SqliteAlertStore

__all__ = ["SqliteAccessStore", "SqliteAlertStore", "SqliteAuditLog", "SqliteNotifyStore"]
