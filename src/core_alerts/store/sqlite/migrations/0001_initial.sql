-- Alerts: one row per (tenant, fingerprint). seq is the rowid (fast inserts, cursor order).
CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    source TEXT NOT NULL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    starts_at REAL NOT NULL,
    ends_at REAL,
    ends_at_explicit INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    updated_at REAL NOT NULL,
    occurrences INTEGER NOT NULL,
    generator_url TEXT NOT NULL,
    dedup_key TEXT,
    acked_by TEXT,
    acked_at REAL,
    resolved_at REAL
);
CREATE UNIQUE INDEX alerts_tenant_fingerprint ON alerts (tenant_id, fingerprint);
CREATE UNIQUE INDEX alerts_tenant_id ON alerts (tenant_id, id);
CREATE INDEX alerts_tenant_status ON alerts (tenant_id, status, seq);
CREATE INDEX alerts_active_ends ON alerts (ends_at) WHERE status != 'resolved';

CREATE TABLE alert_history (
    seq INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    at REAL NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    comment TEXT NOT NULL
);
CREATE INDEX alert_history_alert ON alert_history (tenant_id, alert_id, seq);

CREATE TABLE alert_decisions (
    seq INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    at REAL NOT NULL,
    stage TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX alert_decisions_alert ON alert_decisions (tenant_id, alert_id, seq);
