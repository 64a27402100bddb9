-- The audit log's RFC 6962 Merkle tree (issue 15): every complete subtree's hash under its
-- stored-hash index (custos_audit::merkle, Go sumdb/tlog's layout; about two rows per entry),
-- written in the same transaction as the entries, under the sequencer row, so that roots and
-- proofs read at most 1 + log2(n) rows. Derived from audit_log's leaf hashes, and append-only
-- like it. A log written before this migration gets its tree on the next append.
CREATE TABLE audit_tree (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL CHECK (length(hash) = 32)
);
CREATE FUNCTION audit_tree_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_tree is append-only';
END
$$;
CREATE TRIGGER audit_tree_no_update_delete BEFORE UPDATE OR DELETE ON audit_tree
    FOR EACH ROW EXECUTE FUNCTION audit_tree_append_only();
CREATE TRIGGER audit_tree_no_truncate BEFORE TRUNCATE ON audit_tree
    FOR EACH STATEMENT EXECUTE FUNCTION audit_tree_append_only();
