-- The scaling figures of make bench (bench/scaling.py): bulk fills, and the
-- server's WAL position to measure what an append writes.

-- name: fill_task_log(user_id, task_id, entry_count)!
-- Give the user's task a log of entry_count entries of real-looking (poorly compressible) output, in one write: the paging trigger seals it.
UPDATE tasks
SET
    logs = (
        SELECT
            jsonb_agg(
                jsonb_build_object(
                    'type', 'info',
                    'message', 'line ' || line.number || ' ' || md5(line.number::text),
                    'timestamp', to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                )
                ORDER BY line.number
            )
        FROM generate_series(0, :entry_count - 1) AS line (number)
    )
WHERE user_id = :user_id
    AND id = :task_id;

-- name: insert_user_tasks(user_id, task_count)$
-- task_count finished tasks of one user, one a minute back from yesterday; returns the count.
WITH inserted AS (
    INSERT INTO tasks (id, user_id, prompt, status, progress, created_at, completed_at)
    SELECT
        :user_id || '-old-' || n,
        :user_id,
        'Old task ' || n,
        'completed',
        100,
        now() - interval '1 day' - n * interval '1 minute',
        now() - interval '1 day' - n * interval '1 minute'
    FROM generate_series(1, :task_count) AS n
    RETURNING 1
)

SELECT count(*)
FROM inserted;

-- name: current_wal_lsn()$
-- Where the server's WAL is now (asyncpg reads a pg_lsn as its byte position).
SELECT pg_current_wal_lsn();

-- name: analyze_tasks#
-- Planner statistics after a bulk fill.
ANALYZE users, tasks, task_messages, task_log_pages;
