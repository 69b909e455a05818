-- Tenants and credentials. Secrets are kept only as hashes; API keys by a public id.
CREATE TABLE tenants (
    id text PRIMARY KEY,
    name text NOT NULL,
    status text NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE users (
    tenant_id text NOT NULL REFERENCES tenants (id),
    id text NOT NULL,
    username text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role text NOT NULL,
    created_at double precision NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE api_keys (
    tenant_id text NOT NULL REFERENCES tenants (id),
    id text NOT NULL UNIQUE,
    name text NOT NULL,
    secret_hash text NOT NULL,
    scopes jsonb NOT NULL,
    created_by text NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision,
    revoked_at double precision,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE revoked_tokens (
    tenant_id text NOT NULL,
    jti text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (tenant_id, jti)
);
CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    algorithm text NOT NULL,
    secret text NOT NULL,
    created_at double precision NOT NULL
);
