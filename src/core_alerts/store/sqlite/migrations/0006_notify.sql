-- Notification delivery (store/notify.py): routing configs, aggregation-group timers, the
-- notification log (Alertmanager's nflog) and the delivery outbox with its dead letters.
-- JSON columns hold msgspec JSON text; nothing queries inside them.
CREATE TABLE notify_configs (
    tenant_id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    updated_by TEXT NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE notify_groups (
    tenant_id TEXT NOT NULL,
    group_key TEXT NOT NULL,
    receiver TEXT NOT NULL,
    route_key TEXT NOT NULL,
    group_labels TEXT NOT NULL,
    created_at REAL NOT NULL,
    next_flush_at REAL NOT NULL,
    flushed INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, group_key, receiver)
) WITHOUT ROWID, STRICT;

CREATE TABLE notify_log (
    tenant_id TEXT NOT NULL,
    group_key TEXT NOT NULL,
    receiver TEXT NOT NULL,
    integration TEXT NOT NULL,
    firing TEXT NOT NULL,
    resolved TEXT NOT NULL,
    at REAL NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, group_key, receiver, integration)
) WITHOUT ROWID, STRICT;
CREATE INDEX notify_log_expiry ON notify_log (expires_at);

-- Ids are UUIDv7 made by the caller, unique across tenants (mark_* address entries by id).
-- A lease (lease_owner until lease_until) keeps other owners off an entry being delivered;
-- lease_until 0 means not leased.
CREATE TABLE notify_outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    notification TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL,
    next_attempt_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at REAL,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until REAL NOT NULL DEFAULT 0
) WITHOUT ROWID, STRICT;
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_attempt_at);
CREATE INDEX notify_outbox_tenant ON notify_outbox (tenant_id, id);

-- Which notifications carried an alert: the alert's delivery history.
CREATE TABLE notify_alert_index (
    tenant_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, alert_id, notification_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX notify_alert_index_notification ON notify_alert_index (notification_id)
