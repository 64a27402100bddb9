-- Signed checkpoints of the audit log's Merkle tree (issue 15): C2SP tlog-checkpoint bodies
-- signed as C2SP signed notes with the log's Ed25519 key (kept beside the key-encryption key,
-- never in the database), and the witnesses' cosignatures of them. Append-only: a checkpoint
-- once signed is a promise about the log that no one may take back.
CREATE TABLE audit_checkpoints (
    size      INTEGER PRIMARY KEY CHECK (size > 0),
    note      TEXT NOT NULL,
    signed_at INTEGER NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

CREATE TABLE audit_cosignatures (
    size      INTEGER NOT NULL REFERENCES audit_checkpoints (size),
    witness   TEXT NOT NULL,
    line      TEXT NOT NULL,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (size, witness)
);
CREATE TRIGGER audit_cosignatures_no_update BEFORE UPDATE ON audit_cosignatures
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;
CREATE TRIGGER audit_cosignatures_no_delete BEFORE DELETE ON audit_cosignatures
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;
