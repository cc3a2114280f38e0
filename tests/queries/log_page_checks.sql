-- Test-only SQL for the paged log (migration 0040): what is stored where,
-- and the writes the TypeScript app makes to tasks.logs.

-- name: get_raw_log_shape(task_id)^
-- How a task's log is stored: the open page's offset and length, and the first index and length of each sealed page.
SELECT
    tasks.logs_offset,
    jsonb_array_length(tasks.logs) AS open_length,
    array(
        SELECT task_log_pages.first_index
        FROM task_log_pages
        WHERE task_log_pages.task_id = tasks.id
        ORDER BY task_log_pages.first_index
    ) AS first_indexes,
    array(
        SELECT jsonb_array_length(task_log_pages.entries)
        FROM task_log_pages
        WHERE task_log_pages.task_id = tasks.id
        ORDER BY task_log_pages.first_index
    ) AS page_lengths
FROM tasks
WHERE tasks.id = :task_id;

-- name: list_task_log_entries(user_id, task_id)
-- A task's whole log as a DBA reads it: the task_log_entries view.
SELECT
    index,
    entry
FROM task_log_entries
WHERE user_id = :user_id
    AND task_id = :task_id
ORDER BY index;

-- name: get_raw_task_logs(task_id)$
-- tasks.logs as the TypeScript app reads it.
SELECT logs
FROM tasks
WHERE id = :task_id;

-- name: set_raw_task_logs(task_id, logs)!
-- The TypeScript app's write of a log: the array it read, with its new entry, written back.
UPDATE tasks
SET logs = :logs::jsonb
WHERE id = :task_id;

-- name: fill_raw_task_log(task_id, entry_count)!
-- Give a task a log of entry_count entries ("line 0", "line 1", ...) in one write, as a long log written before 0040.
UPDATE tasks
SET
    logs = (
        SELECT
            jsonb_agg(
                jsonb_build_object(
                    'type', 'info',
                    'message', 'line ' || line.number,
                    'timestamp', '2025-01-01T00:00:00.000Z'
                )
                ORDER BY line.number
            )
        FROM generate_series(0, :entry_count - 1) AS line (number)
    )
WHERE id = :task_id;

-- name: count_task_log_pages(task_id)$
-- How many sealed pages a task has.
SELECT count(*)
FROM task_log_pages
WHERE task_id = :task_id;
