-- task_messages references a task together with its owner, (user_id, id),
-- which needs a unique index on tasks (user_id, id). Built without blocking
-- writes; an invalid index left by an interrupted build is dropped first.
-- lock: SHARE UPDATE EXCLUSIVE on tasks (writes continue)
-- scans: tasks (index build)
-- rewrites: none
-- transactional: false

DO $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM pg_index
        WHERE pg_index.indexrelid = to_regclass('public.tasks_user_id_id_key')
            AND NOT pg_index.indisvalid
    ) THEN
        -- Its own transaction (this file runs without one): a bounded wait.
        SET LOCAL lock_timeout = '5s';
        DROP INDEX tasks_user_id_id_key;
    END IF;
END;
$$;
--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_id_id_key
    ON tasks (user_id, id);
