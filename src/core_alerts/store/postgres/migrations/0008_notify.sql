-- Notification delivery (store/notify.py): routing configs, aggregation-group timers, the
-- notification log (Alertmanager's nflog) and the delivery outbox with its dead letters.
-- JSON columns are `json`: stored as written, cheaper to write than jsonb, never queried.
CREATE TABLE notify_configs (
    tenant_id text PRIMARY KEY,
    text text NOT NULL,
    version integer NOT NULL,
    updated_at double precision NOT NULL,
    updated_by text NOT NULL
);

CREATE TABLE notify_groups (
    tenant_id text NOT NULL,
    group_key text NOT NULL,
    receiver text NOT NULL,
    route_key text NOT NULL,
    group_labels json NOT NULL,
    created_at double precision NOT NULL,
    next_flush_at double precision NOT NULL,
    flushed boolean NOT NULL,
    PRIMARY KEY (tenant_id, group_key, receiver)
);

CREATE TABLE notify_log (
    tenant_id text NOT NULL,
    group_key text NOT NULL,
    receiver text NOT NULL,
    integration text NOT NULL,
    firing json NOT NULL,
    resolved json NOT NULL,
    at double precision NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (tenant_id, group_key, receiver, integration)
);
CREATE INDEX notify_log_expiry ON notify_log (expires_at);

-- Ids are UUIDv7 made by the caller, unique across tenants (mark_* address entries by id).
-- A lease (lease_owner until lease_until) keeps other owners off an entry being delivered;
-- lease_until 0 means not leased. Ids sort bytewise (COLLATE "C"), as on SQLite: pages go in
-- the order the ids were made.
CREATE TABLE notify_outbox (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    created_at double precision NOT NULL,
    notification json NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL,
    next_attempt_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    last_error text NOT NULL DEFAULT '',
    delivered_at double precision,
    lease_owner text NOT NULL DEFAULT '',
    lease_until double precision NOT NULL DEFAULT 0
);
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_attempt_at);
CREATE INDEX notify_outbox_tenant ON notify_outbox (tenant_id, id);

-- Which notifications carried an alert: the alert's delivery history.
CREATE TABLE notify_alert_index (
    tenant_id text NOT NULL,
    alert_id text NOT NULL,
    notification_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, alert_id, notification_id)
);
CREATE INDEX notify_alert_index_notification ON notify_alert_index (notification_id);

-- Row-level security as on the other tables (0006, 0007): the service role sees the tenant
-- its transaction names, or every tenant under '*' (delivery workers, sweeps, metrics).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'core_alerts_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE
            ON notify_configs, notify_groups, notify_log, notify_outbox, notify_alert_index
            TO core_alerts_app;
    END IF;
END
$$;

ALTER TABLE notify_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE notify_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE notify_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE notify_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE notify_alert_index ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_wall ON notify_configs USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
CREATE POLICY tenant_wall ON notify_groups USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
CREATE POLICY tenant_wall ON notify_log USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
CREATE POLICY tenant_wall ON notify_outbox USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
CREATE POLICY tenant_wall ON notify_alert_index USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
