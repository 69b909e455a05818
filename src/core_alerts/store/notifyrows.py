"""Row layout and SQL of the NotifyStore, shared by the SQLite and PostgreSQL backends.

SQL here uses `?` placeholders (PostgreSQL numbers them with schema.numbered) and only the
syntax both engines accept: upserts with ON CONFLICT, RETURNING.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from core_alerts.domain.errors import LimitExceeded, ValidationFailed
from core_alerts.domain.notification import Notification
from core_alerts.store.notify import (
    GroupState,
    LogEntry,
    OutboxEntry,
    OutboxPage,
    OutboxState,
    Outcome,
    StoredConfig,
)

MAX_PAGE = 1000
MAX_ERROR = 4096
"""Characters of a delivery error kept: a receiver may echo a whole response body."""
_STATES: dict[str, OutboxState] = {"pending": "pending", "delivered": "delivered", "dead": "dead"}

CONFIG_COLUMNS = "tenant_id, text, version, updated_at, updated_by"
GROUP_COLUMNS = (
    "tenant_id, group_key, receiver, route_key, group_labels, created_at, next_flush_at, flushed"
)
LOG_COLUMNS = "tenant_id, group_key, receiver, integration, firing, resolved, at, expires_at"
OUTBOX_COLUMNS = (
    "notification, state, attempts, next_attempt_at, updated_at, last_error, delivered_at"
)
INSERT_COLUMNS = (
    "id, tenant_id, created_at, notification, state, attempts, next_attempt_at, updated_at"
)

GET_CONFIG = f"SELECT {CONFIG_COLUMNS} FROM notify_configs WHERE tenant_id = ?"
PUT_CONFIG = (
    f"INSERT INTO notify_configs ({CONFIG_COLUMNS}) VALUES (?, ?, 1, ?, ?) "
    "ON CONFLICT (tenant_id) DO UPDATE SET text = excluded.text, "
    "version = notify_configs.version + 1, updated_at = excluded.updated_at, "
    f"updated_by = excluded.updated_by RETURNING {CONFIG_COLUMNS}"
)
CONFIG_VERSIONS = "SELECT tenant_id, version FROM notify_configs"

SAVE_GROUP = (
    f"INSERT INTO notify_groups ({GROUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, group_key, receiver) DO UPDATE SET "
    "route_key = excluded.route_key, group_labels = excluded.group_labels, "
    "created_at = excluded.created_at, next_flush_at = excluded.next_flush_at, "
    "flushed = excluded.flushed"
)
DELETE_GROUP = "DELETE FROM notify_groups WHERE tenant_id = ? AND group_key = ? AND receiver = ?"
LOAD_GROUPS = f"SELECT {GROUP_COLUMNS} FROM notify_groups ORDER BY tenant_id, group_key, receiver"

UPSERT_LOG = (
    f"INSERT INTO notify_log ({LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, group_key, receiver, integration) DO UPDATE SET "
    "firing = excluded.firing, resolved = excluded.resolved, at = excluded.at, "
    "expires_at = excluded.expires_at"
)
READ_LOG = (
    f"SELECT {LOG_COLUMNS} FROM notify_log WHERE tenant_id = ? AND group_key = ? "
    "AND receiver = ? AND expires_at > ? ORDER BY integration"
)
LOG_FIRING = (
    "SELECT group_key, receiver, firing FROM notify_log WHERE tenant_id = ? AND expires_at > ? "
    "ORDER BY group_key, receiver, integration"
)
INSERT_OUTBOX = (
    f"INSERT INTO notify_outbox ({INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO NOTHING"
)
INDEX_ALERT = (
    "INSERT INTO notify_alert_index (tenant_id, alert_id, notification_id) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)

# Due entries that nobody holds an unexpired lease on (not even the claimer: what it holds
# is in flight, and claiming it again would send it twice).
CLAIMABLE = (
    "state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? "
    "ORDER BY next_attempt_at, id LIMIT ?"
)
_RELEASE = "lease_owner = '', lease_until = 0"
# Only a pending entry moves: a worker whose lease ran out must not undo the outcome that
# another worker has recorded since.
MARK_DELIVERED = (
    "UPDATE notify_outbox SET state = 'delivered', attempts = ?, delivered_at = ?, "
    f"updated_at = ?, {_RELEASE} WHERE id = ? AND state = 'pending'"
)
RETRY_LATER = (
    "UPDATE notify_outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, "
    f"updated_at = ?, {_RELEASE} WHERE id = ? AND state = 'pending'"
)
MARK_DEAD = (
    "UPDATE notify_outbox SET state = 'dead', attempts = ?, last_error = ?, updated_at = ?, "
    f"{_RELEASE} WHERE id = ? AND state = 'pending'"
)
REPLAY = (
    "UPDATE notify_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, "
    f"updated_at = ?, {_RELEASE} WHERE tenant_id = ? AND state = 'dead'"
)
GET_OUTBOX = f"SELECT {OUTBOX_COLUMNS} FROM notify_outbox WHERE tenant_id = ? AND id = ?"
FOR_ALERT = (
    f"SELECT {', '.join('o.' + c.strip() for c in OUTBOX_COLUMNS.split(','))} "
    "FROM notify_alert_index i JOIN notify_outbox o "
    "ON o.id = i.notification_id AND o.tenant_id = i.tenant_id "
    "WHERE i.tenant_id = ? AND i.alert_id = ? ORDER BY o.created_at, o.id"
)
COUNTS = "SELECT tenant_id, state, count(*) FROM notify_outbox GROUP BY tenant_id, state"
PURGEABLE = "state = 'delivered' AND updated_at < ?"
PURGE_LOG = "DELETE FROM notify_log WHERE expires_at < ?"

_encode = msgspec.json.Encoder().encode
_notification = msgspec.json.Decoder(Notification).decode
_labels = msgspec.json.Decoder(dict[str, str]).decode
_ids = msgspec.json.Decoder(list[str]).decode


def outcome_params(outcomes: Sequence[Outcome]) -> dict[str, list[tuple[Any, ...]]]:
    """The parameters of MARK_DELIVERED, RETRY_LATER and MARK_DEAD for a batch of outcomes."""
    by_sql: dict[str, list[tuple[Any, ...]]] = {"MARK_DELIVERED": [], "RETRY_LATER": [],
                                                 "MARK_DEAD": []}  # fmt: skip
    for o in outcomes:
        if o.state == "delivered":
            by_sql["MARK_DELIVERED"].append((o.attempts, o.at, o.at, o.notification_id))
        elif o.state == "dead":
            by_sql["MARK_DEAD"].append((o.attempts, clip_error(o.error), o.at, o.notification_id))
        else:
            by_sql["RETRY_LATER"].append(
                (o.attempts, o.next_attempt_at, clip_error(o.error), o.at, o.notification_id)
            )
    return by_sql


def check_tenant(tenant_id: str) -> None:
    """A tenant-scoped call names one real tenant: '*' would lift the row-level wall."""
    if not tenant_id or tenant_id == "*":
        raise ValidationFailed(f"not a tenant id: {tenant_id!r}", field="tenant_id")


def check_page(state: str | None, limit: int) -> None:
    if state is not None and state not in _STATES:
        raise ValidationFailed(f"unknown outbox state {state!r}", field="state")
    if limit < 1:
        raise ValidationFailed("limit must be at least 1", field="limit")
    if limit > MAX_PAGE:
        raise LimitExceeded(f"limit must be at most {MAX_PAGE}", field="limit")


def list_sql(state: str | None, after: str | None) -> tuple[str, list[Any]]:
    """The page query and its filter parameters, which go between the tenant (first) and the
    LIMIT (last): limit + 1, so the caller knows whether another page follows."""
    conditions, params = ["tenant_id = ?"], []
    if state is not None:
        conditions.append("state = ?")
        params.append(state)
    if after is not None:
        conditions.append("id > ?")
        params.append(after)
    where = " AND ".join(conditions)
    return f"SELECT {OUTBOX_COLUMNS} FROM notify_outbox WHERE {where} ORDER BY id LIMIT ?", params


def page_of(entries: list[OutboxEntry], limit: int) -> OutboxPage:
    if len(entries) > limit:
        entries = entries[:limit]
        return OutboxPage(entries=entries, next_after=entries[-1].id)
    return OutboxPage(entries=entries, next_after=None)


def json_text(value: object) -> str:
    return _encode(value).decode()


def clip_error(error: str) -> str:
    return error[:MAX_ERROR]


def outbox_params(n: Notification) -> tuple[Any, ...]:
    """INSERT_COLUMNS of a new entry: pending, due when the notification was made."""
    return (n.id, n.tenant_id, n.created_at, json_text(n), "pending", 0, n.created_at,
            n.created_at)  # fmt: skip


def index_rows(notifications: Sequence[Notification]) -> list[tuple[str, str, str]]:
    """(tenant_id, alert_id, notification_id) of every alert each notification carries."""
    return sorted({(n.tenant_id, a.alert_id, n.id) for n in notifications for a in n.alerts})


def group_params(g: GroupState) -> tuple[Any, ...]:
    return (g.tenant_id, g.group_key, g.receiver, g.route_key, json_text(g.group_labels),
            g.created_at, g.next_flush_at, g.flushed)  # fmt: skip


def log_params(e: LogEntry) -> tuple[Any, ...]:
    return (e.tenant_id, e.group_key, e.receiver, e.integration, json_text(e.firing),
            json_text(e.resolved), e.at, e.expires_at)  # fmt: skip


# Times are read through float(): SQLite's RETURNING hands back a whole-number REAL as int.


def config_from_row(row: Sequence[Any]) -> StoredConfig:
    tenant_id, text, version, updated_at, updated_by = row
    return StoredConfig(
        tenant_id=tenant_id, text=text, version=version, updated_at=float(updated_at),
        updated_by=updated_by,
    )  # fmt: skip


def group_from_row(row: Sequence[Any]) -> GroupState:
    tenant_id, group_key, receiver, route_key, labels, created_at, next_flush_at, flushed = row
    return GroupState(
        tenant_id=tenant_id, group_key=group_key, receiver=receiver, route_key=route_key,
        group_labels=_labels(labels), created_at=float(created_at),
        next_flush_at=float(next_flush_at),
        flushed=bool(flushed),
    )  # fmt: skip


def log_from_row(row: Sequence[Any]) -> LogEntry:
    tenant_id, group_key, receiver, integration, firing, resolved, at, expires_at = row
    return LogEntry(
        tenant_id=tenant_id, group_key=group_key, receiver=receiver, integration=integration,
        firing=_ids(firing), resolved=_ids(resolved), at=float(at),
        expires_at=float(expires_at),
    )  # fmt: skip


def firing_ids(rows: Sequence[Sequence[Any]]) -> list[tuple[str, str, str]]:
    """LOG_FIRING rows -> (group_key, receiver, alert_id), each once, in log order."""
    seen: dict[tuple[str, str, str], None] = {}
    for group_key, receiver, firing in rows:
        for alert_id in _ids(firing):
            seen[(group_key, receiver, alert_id)] = None
    return list(seen)


def outbox_from_row(row: Sequence[Any]) -> OutboxEntry:
    notification, state, attempts, next_attempt_at, updated_at, last_error, delivered_at = row
    return OutboxEntry(
        notification=_notification(notification), state=_state(state), attempts=attempts,
        next_attempt_at=float(next_attempt_at), updated_at=float(updated_at),
        last_error=last_error, delivered_at=None if delivered_at is None else float(delivered_at),
    )  # fmt: skip


def _state(value: str) -> OutboxState:
    state = _STATES.get(value)
    if state is None:
        raise ValueError(f"unknown outbox state {value!r} in the database")
    return state


def counts_of(rows: Sequence[Sequence[Any]]) -> dict[tuple[str, str], int]:
    return {(tenant_id, state): int(n) for tenant_id, state, n in rows}


def claim_order(entries: list[OutboxEntry]) -> list[OutboxEntry]:
    """RETURNING gives rows in no promised order: oldest due first, as claimed."""
    return sorted(entries, key=lambda e: (e.next_attempt_at, e.id))
