-- The store finds rows by (tenant_id, fingerprint) in a map it keeps in memory (it owns the
-- file alone): an index on random fingerprints made every flush of new alerts rewrite most
-- of its leaf pages.
DROP INDEX IF EXISTS alerts_tenant_fingerprint;
