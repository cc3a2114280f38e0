-- The package's index accounts_provider_external_user_id_idx, as its migrations create it,
-- built without blocking writes; an invalid index left by an interrupted
-- build is dropped first.
-- lock: SHARE UPDATE EXCLUSIVE on accounts (writes continue)
-- scans: accounts (index build)
-- rewrites: none
-- transactional: false

DO $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM pg_index
        WHERE pg_index.indexrelid = to_regclass('public.accounts_provider_external_user_id_idx')
            AND NOT pg_index.indisvalid
    ) THEN
        -- Its own transaction (this file runs without one): a bounded wait.
        SET LOCAL lock_timeout = '5s';
        DROP INDEX accounts_provider_external_user_id_idx;
    END IF;
END;
$$;
--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_provider_external_user_id_idx
    ON accounts (provider, external_user_id);
