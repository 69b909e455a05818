-- Same tables and columns as the SQLite backend. Times are epoch seconds (double precision),
-- as in SQLite, so both backends share rows.py and the lifecycle sees the same floats.
-- Labels are jsonb: compact, validated, and queryable by operators (`labels->>'job'`).
CREATE TABLE alerts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL,
    id text NOT NULL,
    fingerprint text NOT NULL,
    status text NOT NULL,
    severity text NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    source text NOT NULL,
    labels jsonb NOT NULL,
    annotations jsonb NOT NULL,
    starts_at double precision NOT NULL,
    ends_at double precision,
    ends_at_explicit boolean NOT NULL,
    first_seen double precision NOT NULL,
    last_seen double precision NOT NULL,
    updated_at double precision NOT NULL,
    occurrences bigint NOT NULL,
    generator_url text NOT NULL,
    dedup_key text,
    acked_by text,
    acked_at double precision,
    resolved_at double precision,
    CONSTRAINT alerts_tenant_fingerprint UNIQUE (tenant_id, fingerprint),
    CONSTRAINT alerts_tenant_id UNIQUE (tenant_id, id)
);
-- List queries: newest first within a tenant, optionally by status.
CREATE INDEX alerts_tenant_seq ON alerts (tenant_id, seq);
CREATE INDEX alerts_tenant_status ON alerts (tenant_id, status, seq);
-- The expiry sweep only looks at active alerts; the predicate must match expire_due's.
CREATE INDEX alerts_active_ends ON alerts (ends_at) WHERE status <> 'resolved';

CREATE TABLE alert_history (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL,
    alert_id text NOT NULL,
    at double precision NOT NULL,
    from_status text,
    to_status text NOT NULL,
    actor text NOT NULL,
    reason text NOT NULL,
    comment text NOT NULL
);
CREATE INDEX alert_history_alert ON alert_history (tenant_id, alert_id, seq);

CREATE TABLE alert_decisions (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL,
    alert_id text NOT NULL,
    at double precision NOT NULL,
    stage text NOT NULL,
    decision text NOT NULL,
    reason text NOT NULL,
    details jsonb NOT NULL
);
CREATE INDEX alert_decisions_alert ON alert_decisions (tenant_id, alert_id, seq);
