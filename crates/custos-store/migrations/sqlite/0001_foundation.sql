-- Foundation schema. Sensitive fields are stored sealed (BLOB), never in plain text.
-- Times are Unix milliseconds (UTC).

CREATE TABLE people (
    id            TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('partner','officer','team_lead','lawyer','paralegal','secretary','intern','admin','external')),
    status        TEXT NOT NULL CHECK (status IN ('active','suspended','departed')),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE teams (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    lead_id TEXT REFERENCES people(id)
);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_person ON team_members(person_id);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    responsible_id TEXT NOT NULL REFERENCES people(id),
    wrapped_key    BLOB NOT NULL,
    sealed_name    BLOB NOT NULL,
    sealed_contact BLOB NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE matters (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients(id),
    team_id      TEXT NOT NULL REFERENCES teams(id),
    lead_id      TEXT NOT NULL REFERENCES people(id),
    wrapped_key  BLOB NOT NULL,
    sealed_title BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX matters_client ON matters(client_id);

CREATE TABLE matter_members (
    matter_id TEXT NOT NULL REFERENCES matters(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    PRIMARY KEY (matter_id, person_id)
);
CREATE INDEX matter_members_person ON matter_members(person_id);

CREATE TABLE documents (
    id                TEXT PRIMARY KEY,
    matter_id         TEXT NOT NULL REFERENCES matters(id),
    classification    TEXT NOT NULL CHECK (classification IN ('public','internal','confidential','privileged','restricted')),
    sealed_title      BLOB NOT NULL,
    sealed_provenance BLOB NOT NULL,
    media_type        TEXT NOT NULL,
    size              INTEGER NOT NULL,
    created_by        TEXT NOT NULL REFERENCES people(id),
    created_at        INTEGER NOT NULL
);
CREATE INDEX documents_matter ON documents(matter_id, id);

CREATE TABLE walls (
    id           TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('person','team')),
    subject_id   TEXT NOT NULL,
    object_kind  TEXT NOT NULL CHECK (object_kind IN ('client','matter')),
    object_id    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES people(id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX walls_subject ON walls(subject_kind, subject_id);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    actor_id   TEXT,
    action     TEXT NOT NULL,
    resource   TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('allow','deny')),
    reasons    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    leaf_hash  BLOB NOT NULL,
    chain_hash BLOB NOT NULL
);
CREATE INDEX audit_actor ON audit_log(actor_id, seq);
CREATE INDEX audit_resource ON audit_log(resource, seq);
CREATE INDEX audit_request ON audit_log(request_id);

-- Invariant 7: history is append-only.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
