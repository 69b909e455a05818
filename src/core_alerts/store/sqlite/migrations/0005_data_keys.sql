-- Field encryption: each tenant's (and data subject's) data keys, wrapped by a master key.
-- subject '' is the tenant's own key. A destroyed key keeps its row without key material.
CREATE TABLE data_keys (
    tenant_id TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL,
    master_key_id TEXT,
    wrapped BLOB,
    PRIMARY KEY (tenant_id, subject, version)
);
