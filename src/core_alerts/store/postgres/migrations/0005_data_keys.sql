-- Field encryption: each tenant's (and data subject's) data keys, wrapped by a master key.
-- subject '' is the tenant's own key. A destroyed key keeps its row without key material.
CREATE TABLE data_keys (
    tenant_id text NOT NULL,
    subject text NOT NULL DEFAULT '',
    version integer NOT NULL,
    master_key_id text,
    wrapped bytea,
    PRIMARY KEY (tenant_id, subject, version)
);
