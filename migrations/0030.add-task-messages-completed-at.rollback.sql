-- Undo 0030.add-task-messages-completed-at.
SET LOCAL lock_timeout = '5s';

ALTER TABLE task_messages
    DROP COLUMN completed_at;
