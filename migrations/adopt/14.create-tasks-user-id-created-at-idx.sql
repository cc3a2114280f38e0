-- The package's index tasks_user_id_created_at_idx, as its migrations create it,
-- built without blocking writes; an invalid index left by an interrupted
-- build is dropped first.
-- lock: SHARE UPDATE EXCLUSIVE on tasks (writes continue)
-- scans: tasks (index build)
-- rewrites: none
-- transactional: false

DO $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM pg_index
        WHERE pg_index.indexrelid = to_regclass('public.tasks_user_id_created_at_idx')
            AND NOT pg_index.indisvalid
    ) THEN
        -- Its own transaction (this file runs without one): a bounded wait.
        SET LOCAL lock_timeout = '5s';
        DROP INDEX tasks_user_id_created_at_idx;
    END IF;
END;
$$;
--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_id_created_at_idx
    ON tasks (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
