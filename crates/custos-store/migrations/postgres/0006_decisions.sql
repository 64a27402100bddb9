-- The decision point, complete (issue 14).
--
-- R4 preconditions: the day a person signed the confidentiality agreement and the last day their
-- confidentiality training is valid, as YYYY-MM-DD in the firm's time zone; NULL: not on file.
ALTER TABLE people ADD COLUMN agreement_signed_on TEXT;
ALTER TABLE people ADD COLUMN training_valid_until TEXT;

-- R3 walls: exclusionary (the subject is kept out) or inclusionary (only the subjects of a
-- record's inclusionary walls are let in); a lifted wall stays on record, with who lifted it,
-- when and why, and screens no one.
ALTER TABLE walls ADD COLUMN kind TEXT NOT NULL DEFAULT 'exclusionary'
    CHECK (kind IN ('exclusionary','inclusionary'));
ALTER TABLE walls ADD COLUMN lifted_by TEXT COLLATE "C" REFERENCES people(id);
ALTER TABLE walls ADD COLUMN lifted_at BIGINT;
ALTER TABLE walls ADD COLUMN lift_reason TEXT;
CREATE INDEX walls_active_inclusionary ON walls(kind, lifted_at);

-- R6 break-glass: a person's emergency access to one matter, with a written justification,
-- until expires_at; it waits in the officer's review queue until reviewed_at is set.
CREATE TABLE break_glass (
    id             TEXT COLLATE "C" PRIMARY KEY,
    person_id      TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    matter_id      TEXT COLLATE "C" NOT NULL REFERENCES matters(id),
    justification  TEXT NOT NULL,
    opened_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    reviewed_by    TEXT COLLATE "C" REFERENCES people(id),
    reviewed_at    BIGINT,
    verdict        TEXT CHECK (verdict IN ('justified','unjustified')),
    review_comment TEXT,
    CHECK ((reviewed_at IS NULL) = (verdict IS NULL))
);
CREATE INDEX break_glass_person ON break_glass(person_id, expires_at);
CREATE INDEX break_glass_open_reviews ON break_glass(reviewed_at, opened_at);
