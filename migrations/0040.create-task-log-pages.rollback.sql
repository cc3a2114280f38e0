-- Undo 0040.create-task-log-pages: every sealed page goes back into
-- tasks.logs first, so no entry is lost.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30min';

-- squawk-ignore ban-drop-view
DROP VIEW task_log_entries;

-- squawk-ignore ban-drop-function
DROP FUNCTION task_log_since(text, text, bigint, jsonb, bigint);

DROP TRIGGER tasks_seal_log_pages ON tasks;

UPDATE tasks
SET
    logs = (
        SELECT jsonb_agg(entry.value ORDER BY task_log_pages.first_index, entry.position)
        FROM task_log_pages
        CROSS JOIN LATERAL jsonb_array_elements(task_log_pages.entries)
            WITH ORDINALITY AS entry (value, position)
        WHERE task_log_pages.user_id = tasks.user_id
            AND task_log_pages.task_id = tasks.id
    ) || COALESCE(tasks.logs, '[]'::jsonb),
    logs_offset = 0
WHERE tasks.logs_offset > 0;

-- squawk-ignore ban-drop-function
DROP FUNCTION seal_task_log_pages();

-- squawk-ignore ban-drop-table
DROP TABLE task_log_pages;

COMMENT ON COLUMN tasks.logs IS
    'JSONB array of log entries {type: info|command|error|success|subagent, message, timestamp, agentSource?: {name, isSubAgent?, parentAgent?, subAgentId?}}, appended atomically (logs || new entries).';

ALTER TABLE tasks
    -- squawk-ignore ban-drop-column
    DROP COLUMN logs_offset;

-- squawk-ignore ban-drop-function
DROP FUNCTION task_log_page_size();
