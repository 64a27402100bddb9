-- Account recovery by two people (a person who lost both password and second factor): the
-- first half of the new one-time password, sealed under the KEK, waits here until a second
-- person completes the recovery. Neither half alone is a working login.

CREATE TABLE account_recoveries (
    person_id   TEXT PRIMARY KEY REFERENCES people(id),
    started_by  TEXT NOT NULL REFERENCES people(id),
    sealed_half BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
