-- Foundation schema, PostgreSQL dialect: the same tables and columns as the SQLite schema, so
-- one SQL text serves both backends. Sensitive fields are stored sealed (BYTEA), never in plain
-- text. Times are Unix milliseconds (UTC). Identifiers are lower-case UUID text with the "C"
-- collation, so that text order is UUID order on every server locale.

CREATE TABLE people (
    id            TEXT COLLATE "C" PRIMARY KEY,
    user_name     TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('partner','officer','team_lead','lawyer','paralegal','secretary','intern','admin','external')),
    status        TEXT NOT NULL CHECK (status IN ('active','suspended','departed')),
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE teams (
    id      TEXT COLLATE "C" PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL UNIQUE,
    lead_id TEXT COLLATE "C" REFERENCES people(id)
);

CREATE TABLE team_members (
    team_id   TEXT COLLATE "C" NOT NULL REFERENCES teams(id),
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_person ON team_members(person_id);

CREATE TABLE clients (
    id             TEXT COLLATE "C" PRIMARY KEY,
    responsible_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    wrapped_key    BYTEA NOT NULL,
    sealed_name    BYTEA NOT NULL,
    sealed_contact BYTEA NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE matters (
    id           TEXT COLLATE "C" PRIMARY KEY,
    client_id    TEXT COLLATE "C" NOT NULL REFERENCES clients(id),
    team_id      TEXT COLLATE "C" NOT NULL REFERENCES teams(id),
    lead_id      TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    wrapped_key  BYTEA NOT NULL,
    sealed_title BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX matters_client ON matters(client_id);

CREATE TABLE matter_members (
    matter_id TEXT COLLATE "C" NOT NULL REFERENCES matters(id),
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    PRIMARY KEY (matter_id, person_id)
);
CREATE INDEX matter_members_person ON matter_members(person_id);

CREATE TABLE documents (
    id                TEXT COLLATE "C" PRIMARY KEY,
    matter_id         TEXT COLLATE "C" NOT NULL REFERENCES matters(id),
    classification    TEXT NOT NULL CHECK (classification IN ('public','internal','confidential','privileged','restricted')),
    sealed_title      BYTEA NOT NULL,
    sealed_provenance BYTEA NOT NULL,
    media_type        TEXT NOT NULL,
    size              BIGINT NOT NULL,
    created_by        TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    created_at        BIGINT NOT NULL
);
CREATE INDEX documents_matter ON documents(matter_id, id);

CREATE TABLE walls (
    id           TEXT COLLATE "C" PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('person','team')),
    subject_id   TEXT COLLATE "C" NOT NULL,
    object_kind  TEXT NOT NULL CHECK (object_kind IN ('client','matter')),
    object_id    TEXT COLLATE "C" NOT NULL,
    reason       TEXT NOT NULL,
    created_by   TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX walls_subject ON walls(subject_kind, subject_id);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    person_id  TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at_ms      BIGINT NOT NULL,
    request_id TEXT COLLATE "C" NOT NULL,
    actor_id   TEXT COLLATE "C",
    action     TEXT NOT NULL,
    resource   TEXT COLLATE "C" NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('allow','deny')),
    reasons    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    leaf_hash  BYTEA NOT NULL,
    chain_hash BYTEA NOT NULL
);
CREATE INDEX audit_actor ON audit_log(actor_id, seq);
CREATE INDEX audit_resource ON audit_log(resource, seq);
CREATE INDEX audit_request ON audit_log(request_id);

-- The audit sequencer: one row, locked (SELECT ... FOR UPDATE) by a unit of work from its
-- first audit entry until it commits or rolls back. Every node appends through it, so sequence
-- numbers follow commit order with no gap: a rolled-back unit releases the lock and its numbers
-- were never taken.
CREATE TABLE audit_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        BIGINT NOT NULL,
    chain_hash BYTEA
);
INSERT INTO audit_head (id, seq, chain_hash) VALUES (1, 0, NULL);

-- Invariant 7: history is append-only. The trigger refuses UPDATE, DELETE and TRUNCATE even
-- for the table's owner; the documented application role also lacks those privileges.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
