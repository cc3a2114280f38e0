-- Test-only SQL for the fault tests: rows set up directly, backends killed.

-- name: insert_raw_tasks(user_id, ids)$
-- Insert pending tasks with the given ids for the user, bypassing the daily limit; returns how many.
WITH inserted AS (
    INSERT INTO tasks (id, user_id, prompt)
    SELECT
        task_id,
        :user_id,
        'fault test'
    FROM unnest(:ids::text[]) AS task_id
    RETURNING id
)
SELECT count(*) FROM inserted;

-- name: list_deleted_task_ids(user_id)
-- The ids of the user's soft-deleted tasks.
SELECT id
FROM tasks
WHERE user_id = :user_id
    AND deleted_at IS NOT NULL
ORDER BY id;

-- name: terminate_other_backends()$
-- Kill every other session on this database (what an operator or a failover does); returns how many.
SELECT count(pg_terminate_backend(pid))
FROM pg_stat_activity
WHERE datname = current_database()
    AND pid <> pg_backend_pid();
