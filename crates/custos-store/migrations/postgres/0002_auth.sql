-- Authentication hardening: first-login flags, second factors (TOTP now, WebAuthn later),
-- recovery codes, login throttling, sessions with idle timeout and stages, personal API tokens.
-- Secrets are stored sealed (TOTP) or hashed (tokens, recovery codes), never in plain text.

ALTER TABLE people ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;

-- Sessions opened before this version had no second factor: they end with the upgrade.
DROP TABLE sessions;
CREATE TABLE sessions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    person_id    TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    stage        TEXT NOT NULL CHECK (stage IN ('setup','full')),
    kind         TEXT NOT NULL CHECK (kind IN ('bearer','cookie')),
    source       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE second_factors (
    id            TEXT COLLATE "C" PRIMARY KEY,
    person_id     TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    kind          TEXT NOT NULL CHECK (kind IN ('totp')),
    sealed_secret BYTEA NOT NULL,
    active        BIGINT NOT NULL CHECK (active IN (0, 1)),
    last_step     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX second_factors_person ON second_factors(person_id);

CREATE TABLE recovery_codes (
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    code_hash BYTEA NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (person_id, code_hash)
);

CREATE TABLE login_throttle (
    key             TEXT COLLATE "C" PRIMARY KEY,
    failures        BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id         TEXT COLLATE "C" PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    person_id  TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_person ON api_tokens(person_id);
