-- The audit trail: one append-only hash chain per tenant (see domain/audit.py).
-- STRICT: a value of the wrong type is refused instead of stored and hashed differently.
-- details holds the canonical JSON text of the entry's details object.
CREATE TABLE audit_entries (
    tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID, STRICT;
CREATE INDEX audit_entries_actor ON audit_entries (tenant_id, actor, seq);

-- The last seq and hash of each chain, written in the append's transaction: a deleted
-- newest entry leaves the head pointing past the end of the chain.
CREATE TABLE audit_heads (
    tenant_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
) WITHOUT ROWID, STRICT;

-- Defence in depth against a stray UPDATE or DELETE in the application. Anyone who can write
-- the file can drop these triggers: the hash chain is what detects that.
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_heads_forward BEFORE UPDATE ON audit_heads
WHEN NEW.seq <= OLD.seq OR NEW.tenant_id <> OLD.tenant_id
BEGIN SELECT RAISE(ABORT, 'an audit head only moves forward'); END;
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
BEGIN SELECT RAISE(ABORT, 'audit heads cannot be deleted'); END;
