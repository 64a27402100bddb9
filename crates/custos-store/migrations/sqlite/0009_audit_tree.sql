-- The audit log's RFC 6962 Merkle tree (issue 15): every complete subtree's hash under its
-- stored-hash index (custos_audit::merkle, Go sumdb/tlog's layout; about two rows per entry),
-- written in the same transaction as the entries, so that roots and proofs read at most
-- 1 + log2(n) rows. Derived from audit_log's leaf hashes, and append-only like it. A log
-- written before this migration gets its tree on the next append (rebuilt from the leaf hashes).
CREATE TABLE audit_tree (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only'); END;
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only'); END;
