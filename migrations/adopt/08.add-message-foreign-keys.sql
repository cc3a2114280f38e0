-- The package's keys of task_messages: user_id references users, and
-- (user_id, task_id) references tasks (user_id, id). Added NOT VALID (checked
-- for new rows at once, for existing ones in step 10). Shim while the app
-- shares the database: the composite key is ON UPDATE CASCADE, so the app's
-- account merge (UPDATE tasks SET user_id) carries the messages along; 0005
-- has no ON UPDATE action (checks/remove-shims.sql restores that). tasks is
-- locked against writes first, so no merge slips between the last backfill
-- and the new key.
-- lock: SHARE ROW EXCLUSIVE on tasks, task_messages, users (for the final backfill pass)
-- scans: task_messages (messages whose owner changed since step 07)
-- rewrites: none

SET LOCAL lock_timeout = '5s';

LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

UPDATE task_messages
SET
    user_id = tasks.user_id
FROM tasks
WHERE tasks.id = task_messages.task_id
    AND task_messages.user_id IS DISTINCT FROM tasks.user_id;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1
        FROM pg_constraint
        WHERE pg_constraint.conrelid = 'task_messages'::regclass
            AND pg_constraint.conname = 'task_messages_user_id_fkey'
    ) THEN
        ALTER TABLE task_messages
            ADD CONSTRAINT task_messages_user_id_fkey FOREIGN KEY (user_id)
            REFERENCES users (id) ON DELETE CASCADE
            NOT VALID;
    END IF;
    IF NOT EXISTS (
        SELECT 1
        FROM pg_constraint
        WHERE pg_constraint.conrelid = 'task_messages'::regclass
            AND pg_constraint.conname = 'task_messages_task_fkey'
    ) THEN
        ALTER TABLE task_messages
            ADD CONSTRAINT task_messages_task_fkey FOREIGN KEY (user_id, task_id)
            REFERENCES tasks (user_id, id) ON UPDATE CASCADE ON DELETE CASCADE
            NOT VALID;
    END IF;
END;
$$;
