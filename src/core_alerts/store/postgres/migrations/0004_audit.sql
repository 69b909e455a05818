-- The audit trail: one append-only hash chain per tenant (see domain/audit.py).
-- details is `json`, not `jsonb`: json keeps the text as written, while jsonb would turn a
-- float such as 1e16 into the integer 10000000000000000 and change the entry's hash.
CREATE TABLE audit_entries (
    tenant_id text NOT NULL,
    seq bigint NOT NULL,
    at double precision NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target_type text NOT NULL,
    target_id text NOT NULL,
    outcome text NOT NULL,
    details json NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_entries_actor ON audit_entries (tenant_id, actor, seq);

-- The last seq and hash of each chain, updated in the append's transaction; appends lock
-- this row (SELECT ... FOR UPDATE), which serializes them per tenant.
CREATE TABLE audit_heads (
    tenant_id text PRIMARY KEY,
    seq bigint NOT NULL,
    hash text NOT NULL
);

-- Defence in depth: no role gets to rewrite the trail through a grant, and the triggers stop
-- the owner too. A superuser (or the owner) can still disable triggers: the hash chain is
-- what detects that. EXECUTE PROCEDURE (not FUNCTION) keeps PostgreSQL 10 supported.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM PUBLIC;
REVOKE DELETE, TRUNCATE ON audit_heads FROM PUBLIC;

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit trail rows are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <= OLD.seq OR NEW.tenant_id <> OLD.tenant_id THEN
        RAISE EXCEPTION 'an audit head only moves forward (tenant %, seq % to %)',
            OLD.tenant_id, OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE PROCEDURE audit_refuse_change();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE PROCEDURE audit_refuse_change();
CREATE TRIGGER audit_heads_forward BEFORE UPDATE ON audit_heads
    FOR EACH ROW EXECUTE PROCEDURE audit_head_forward();
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
    FOR EACH ROW EXECUTE PROCEDURE audit_refuse_change();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE PROCEDURE audit_refuse_change();
