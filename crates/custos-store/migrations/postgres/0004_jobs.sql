-- Periodic work (jobs): one row per named job. A node runs a job only after claiming its row
-- (a lease: `holder` until `lease_until`), and only when it is due (`next_run_at`). A node that
-- dies mid-run leaves the lease to expire; another node then takes the job over.

CREATE TABLE jobs (
    name             TEXT COLLATE "C" PRIMARY KEY,
    holder           TEXT,
    lease_until      BIGINT NOT NULL,
    next_run_at      BIGINT NOT NULL,
    last_started_at  BIGINT,
    last_finished_at BIGINT,
    last_error       TEXT,
    last_changed     BIGINT,
    runs             BIGINT NOT NULL
);
