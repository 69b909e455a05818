-- Row-level security on the audit trail, as on the alert tables (0006): the service role
-- may read and append a tenant's chain and move its head, only in the tenant it names.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'core_alerts_app') THEN
        GRANT SELECT, INSERT ON audit_entries TO core_alerts_app;
        GRANT SELECT, INSERT, UPDATE ON audit_heads TO core_alerts_app;
    END IF;
END
$$;

ALTER TABLE audit_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_wall ON audit_entries USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
CREATE POLICY tenant_wall ON audit_heads USING (
    tenant_id = current_setting('core_alerts.tenant', true)
    OR current_setting('core_alerts.tenant', true) = '*'
);
