-- Firm policies in Cedar (issue 14): every saved policy set is a new version; the highest
-- version is in force. Restoring an earlier one saves its text again as a new version, so the
-- history is never rewritten. Only forbid policies are accepted (checked by the app).
CREATE TABLE firm_policies (
    version    INTEGER PRIMARY KEY,
    text       TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES people(id),
    created_at INTEGER NOT NULL
);
