-- Row-level security: a second wall between tenants behind the tenant_id filters of every
-- query. The service acts as the role core_alerts_app (not the owner, not a superuser) and
-- names the tenant of each transaction in the setting core_alerts.tenant ('*' for the
-- work that spans tenants: group commits of several tenants' requests, expiry sweeps).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'core_alerts_app')
       AND (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        CREATE ROLE core_alerts_app NOLOGIN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'core_alerts_app') THEN
        GRANT USAGE ON SCHEMA public TO core_alerts_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON alerts, alert_history, alert_decisions
            TO core_alerts_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO core_alerts_app;
        IF NOT pg_has_role(current_user, 'core_alerts_app', 'MEMBER') THEN
            EXECUTE format('GRANT core_alerts_app TO %I', current_user);
        END IF;
    END IF;
END
$$;

ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_decisions ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_wall ON alerts USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
CREATE POLICY tenant_wall ON alert_history USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
CREATE POLICY tenant_wall ON alert_decisions USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
