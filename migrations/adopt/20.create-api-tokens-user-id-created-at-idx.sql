-- The package's index api_tokens_user_id_created_at_idx, as its migrations create it,
-- built without blocking writes; an invalid index left by an interrupted
-- build is dropped first.
-- lock: SHARE UPDATE EXCLUSIVE on api_tokens (writes continue)
-- scans: api_tokens (index build)
-- rewrites: none
-- transactional: false

DO $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM pg_index
        WHERE pg_index.indexrelid = to_regclass('public.api_tokens_user_id_created_at_idx')
            AND NOT pg_index.indisvalid
    ) THEN
        -- Its own transaction (this file runs without one): a bounded wait.
        SET LOCAL lock_timeout = '5s';
        DROP INDEX api_tokens_user_id_created_at_idx;
    END IF;
END;
$$;
--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS api_tokens_user_id_created_at_idx
    ON api_tokens (user_id, created_at, id);
