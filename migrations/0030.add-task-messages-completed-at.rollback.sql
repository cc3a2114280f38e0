-- Undo 0030.add-task-messages-completed-at.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

-- Undoing this migration drops the column it added.
ALTER TABLE task_messages
    -- squawk-ignore ban-drop-column
    DROP COLUMN completed_at;
