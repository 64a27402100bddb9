-- Issue 16, second part: an outside recipient's own account (at most one recipient per
-- account), the register's filters by client and recipient, and R13's "client informed
-- afterwards" (when and by whom); the firm's people's mail addresses for notices (approvals
-- waiting, refusals, releases: never client content).
CREATE UNIQUE INDEX third_parties_person ON third_parties(person_id);
-- The signed agreement, uploaded and sealed as a document of a matter it was signed for.
ALTER TABLE third_parties ADD COLUMN agreement_document_id TEXT REFERENCES documents(id);
CREATE INDEX transfers_recipient ON transfers(recipient_id, id);
CREATE INDEX transfers_client ON transfers(client_id, id);
ALTER TABLE transfers ADD COLUMN client_informed_at INTEGER;
ALTER TABLE transfers ADD COLUMN client_informed_by TEXT REFERENCES people(id);
CREATE TABLE mail_addresses (
    person_id  TEXT PRIMARY KEY REFERENCES people(id),
    email      TEXT NOT NULL,
    set_by     TEXT NOT NULL REFERENCES people(id),
    set_at     INTEGER NOT NULL
);
