-- The durable intake: each group commit appends its sends here (one row, one fsync) before
-- any request is answered; rows are materialised into alerts/alert_history behind it and
-- deleted in the same transaction. After a crash, the remaining rows are replayed at start.
CREATE TABLE intake (
    seq INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    at REAL NOT NULL,
    payload BLOB NOT NULL
);
