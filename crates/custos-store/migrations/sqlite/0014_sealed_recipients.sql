-- Issue 33, item 7: a recipient's name, organisation and address are sealed under the
-- key-encryption key (client-related: who the firm sends a client's documents to); the
-- address is unique through a keyed lookup tag instead of its clear text.
ALTER TABLE third_parties ADD COLUMN email_key TEXT;
CREATE UNIQUE INDEX third_parties_email_tag ON third_parties(email_key);
