-- The officer's most asked question of the audit log, "what was this person refused?", walks a
-- small partial index of denials (one in twenty entries or fewer) instead of every entry of the
-- person (issue 15: audit queries stay flat as the log grows).
CREATE INDEX audit_denials ON audit_log(actor_id, seq) WHERE outcome = 'deny';
