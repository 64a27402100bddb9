-- Least privilege for the Custos application role on PostgreSQL (docs/OPERATIONS.md).
--
-- Run as the schema's owner, after `custos db migrate` (or a first start with migrations on),
-- with search_path set to the Custos schema, e.g.:
--   psql "postgres://custos_owner@db/custos" -v ON_ERROR_STOP=1 -f scripts/postgres-grants.sql
-- The application role can read and change records, but can only ever append to the audit
-- log: it has no UPDATE, DELETE or TRUNCATE there (and the trigger refuses them for everyone).
-- It cannot create or alter tables, so nodes run with `database.migrate = false`.

CREATE ROLE custos_app LOGIN;

DO $$ BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO custos_app', current_schema());
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE
    ON people, teams, team_members, clients, matters, matter_members, documents, walls, sessions,
       second_factors, recovery_codes, login_throttle, api_tokens, account_recoveries, jobs,
       counters, break_glass, firm_policies, third_parties, consents, transfers,
       transfer_documents, transfer_approvals, release_links, release_codes, release_sessions,
       release_downloads, outbox, mail_addresses
    TO custos_app;
GRANT SELECT, INSERT ON audit_log, audit_tree, audit_checkpoints, audit_cosignatures TO custos_app;
GRANT SELECT, UPDATE ON audit_head TO custos_app;
GRANT SELECT ON _sqlx_migrations TO custos_app;
