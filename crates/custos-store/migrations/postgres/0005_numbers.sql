-- Client and matter numbers (C-0007, M-0042): what people say, type and search for. A number is
-- not sealed: like an id, it says nothing about the client or the matter, and it lets those
-- who may see only metadata (the officer raising a wall, IT) tell records apart. Numbers come
-- from a counter row per kind, taken in the transaction that adds the record (on PostgreSQL
-- the row lock orders concurrent writers; no number is used twice).

CREATE TABLE counters (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);

ALTER TABLE clients ADD COLUMN number BIGINT;
ALTER TABLE matters ADD COLUMN number BIGINT;
-- Existing records are numbered in the order they were created (ids are UUIDv7).
UPDATE clients SET number = (SELECT COUNT(*) FROM clients AS earlier WHERE earlier.id <= clients.id);
UPDATE matters SET number = (SELECT COUNT(*) FROM matters AS earlier WHERE earlier.id <= matters.id);
CREATE UNIQUE INDEX clients_number ON clients(number);
CREATE UNIQUE INDEX matters_number ON matters(number);

INSERT INTO counters (name, value) SELECT 'client', COALESCE(MAX(number), 0) FROM clients;
INSERT INTO counters (name, value) SELECT 'matter', COALESCE(MAX(number), 0) FROM matters;
ALTER TABLE clients ALTER COLUMN number SET NOT NULL;
ALTER TABLE matters ALTER COLUMN number SET NOT NULL;
