-- Consent, third parties and external transfers (issue 16: R10-R13).

-- R11: outside recipients, their verified address and their confidentiality agreement.
CREATE TABLE third_parties (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    organisation         TEXT NOT NULL,
    category             TEXT NOT NULL
        CHECK (category IN ('expert_witness','co_counsel','vendor','authority')),
    email                TEXT NOT NULL UNIQUE,
    verified_at          INTEGER,
    verified_by          TEXT REFERENCES people(id),
    verified_how         TEXT,
    agreement_signed_on  TEXT,
    agreement_expires_on TEXT,
    agreement_sha256     TEXT,
    person_id            TEXT REFERENCES people(id),
    created_by           TEXT NOT NULL REFERENCES people(id),
    created_at           INTEGER NOT NULL
);

-- R10: a client's consent, scoped by purposes, recipient or category, and matters (JSON
-- arrays; no matters: all of the client's); written (the signed copy is a document of one of
-- the client's matters) or electronic; revocation takes effect at once.
CREATE TABLE consents (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients(id),
    purposes      TEXT NOT NULL,
    recipient_id  TEXT REFERENCES third_parties(id),
    category      TEXT
        CHECK (category IN ('expert_witness','co_counsel','vendor','authority')),
    matters       TEXT NOT NULL,
    form          TEXT NOT NULL CHECK (form IN ('written','electronic')),
    document_id   TEXT REFERENCES documents(id),
    given_on      TEXT NOT NULL,
    expires_on    TEXT,
    recorded_by   TEXT NOT NULL REFERENCES people(id),
    recorded_at   INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoked_by    TEXT REFERENCES people(id),
    revoke_reason TEXT,
    CHECK ((form = 'written') = (document_id IS NOT NULL)),
    CHECK (recipient_id IS NOT NULL OR category IS NOT NULL),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX consents_client ON consents(client_id, id);

-- R12/R13: a request to send documents of one matter to one recipient, on a consent or a
-- recorded legal basis; status pending -> released | refused | voided.
CREATE TABLE transfers (
    id                TEXT PRIMARY KEY,
    matter_id         TEXT NOT NULL REFERENCES matters(id),
    client_id         TEXT NOT NULL REFERENCES clients(id),
    requester_id      TEXT NOT NULL REFERENCES people(id),
    recipient_id      TEXT NOT NULL REFERENCES third_parties(id),
    purpose           TEXT NOT NULL,
    channel           TEXT NOT NULL CHECK (channel IN ('link')),
    consent_id        TEXT REFERENCES consents(id),
    legal_basis       TEXT CHECK (legal_basis IN ('court_order','regulator_request','imminent_harm')),
    legal_reference   TEXT,
    order_document_id TEXT REFERENCES documents(id),
    inform_client     TEXT CHECK (inform_client IN ('after','forbidden')),
    forbidden_until   TEXT,
    status            TEXT NOT NULL
        CHECK (status IN ('pending','released','refused','voided')),
    status_reason     TEXT,
    fingerprint       TEXT,
    link_days         INTEGER NOT NULL CHECK (link_days BETWEEN 1 AND 30),
    download_limit    INTEGER NOT NULL CHECK (download_limit BETWEEN 1 AND 100),
    passphrase_hash   TEXT,
    requested_at      INTEGER NOT NULL,
    closed_at         INTEGER,
    CHECK ((consent_id IS NULL) <> (legal_basis IS NULL)),
    CHECK ((legal_basis IS NULL) = (legal_reference IS NULL))
);
CREATE INDEX transfers_status ON transfers(status, id);
CREATE INDEX transfers_requester ON transfers(requester_id, id);
CREATE INDEX transfers_consent ON transfers(consent_id);

CREATE TABLE transfer_documents (
    transfer_id TEXT NOT NULL REFERENCES transfers(id),
    document_id TEXT NOT NULL REFERENCES documents(id),
    sha256      TEXT,
    PRIMARY KEY (transfer_id, document_id)
);

-- Two approvals, two different people (the primary key), one per slot.
CREATE TABLE transfer_approvals (
    transfer_id TEXT NOT NULL REFERENCES transfers(id),
    person_id   TEXT NOT NULL REFERENCES people(id),
    slot        TEXT NOT NULL CHECK (slot IN ('lead','officer')),
    fingerprint TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (transfer_id, person_id),
    UNIQUE (transfer_id, slot)
);

-- The release: one link per released transfer; the token, codes and sessions are stored as
-- SHA-256 hashes only.
CREATE TABLE release_links (
    id              TEXT PRIMARY KEY,
    transfer_id     TEXT NOT NULL UNIQUE REFERENCES transfers(id),
    token_hash      TEXT NOT NULL UNIQUE,
    passphrase_hash TEXT,
    expires_at      INTEGER NOT NULL,
    download_limit  INTEGER NOT NULL CHECK (download_limit > 0),
    downloads       INTEGER NOT NULL DEFAULT 0,
    wrong_codes     INTEGER NOT NULL DEFAULT 0,
    codes_sent      INTEGER NOT NULL DEFAULT 0,
    revoked_at      INTEGER,
    revoked_by      TEXT REFERENCES people(id),
    revoke_reason   TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX release_links_live ON release_links(revoked_at, expires_at);

CREATE TABLE release_codes (
    link_id    TEXT PRIMARY KEY REFERENCES release_links(id),
    code_hash  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE release_sessions (
    token_hash TEXT PRIMARY KEY,
    link_id    TEXT NOT NULL REFERENCES release_links(id),
    expires_at INTEGER NOT NULL
);

CREATE TABLE release_downloads (
    id          TEXT PRIMARY KEY,
    link_id     TEXT NOT NULL REFERENCES release_links(id),
    document_id TEXT NOT NULL REFERENCES documents(id),
    at          INTEGER NOT NULL,
    address     TEXT
);
CREATE INDEX release_downloads_link ON release_downloads(link_id, at);

-- Mail waits here (the embedded default has no mail server): the officer sees it; a
-- configured SMTP relay sends it. Never client content.
CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    to_address  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX outbox_unsent ON outbox(sent_at, id);
