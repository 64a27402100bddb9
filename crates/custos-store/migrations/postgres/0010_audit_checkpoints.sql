-- Signed checkpoints of the audit log's Merkle tree (issue 15): C2SP tlog-checkpoint bodies
-- signed as C2SP signed notes with the log's Ed25519 key (kept beside the key-encryption key,
-- never in the database), and the witnesses' cosignatures of them. Append-only: a checkpoint
-- once signed is a promise about the log that no one may take back.
CREATE TABLE audit_checkpoints (
    size      BIGINT PRIMARY KEY CHECK (size > 0),
    note      TEXT NOT NULL,
    signed_at BIGINT NOT NULL
);
CREATE TABLE audit_cosignatures (
    size      BIGINT NOT NULL REFERENCES audit_checkpoints (size),
    witness   TEXT NOT NULL,
    line      TEXT NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (size, witness)
);
CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_cosignatures_no_update_delete BEFORE UPDATE OR DELETE ON audit_cosignatures
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_cosignatures_no_truncate BEFORE TRUNCATE ON audit_cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();
