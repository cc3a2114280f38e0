-- The package's index connectors_user_id_name_idx, as its migrations create it,
-- built without blocking writes; an invalid index left by an interrupted
-- build is dropped first.
-- lock: SHARE UPDATE EXCLUSIVE on connectors (writes continue)
-- scans: connectors (index build)
-- rewrites: none
-- transactional: false

DO $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM pg_index
        WHERE pg_index.indexrelid = to_regclass('public.connectors_user_id_name_idx')
            AND NOT pg_index.indisvalid
    ) THEN
        -- Its own transaction (this file runs without one): a bounded wait.
        SET LOCAL lock_timeout = '5s';
        DROP INDEX connectors_user_id_name_idx;
    END IF;
END;
$$;
--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS connectors_user_id_name_idx
    ON connectors (user_id, name, id);
