-- The package's keys of task_messages: user_id references users, and
-- (user_id, task_id) references tasks (user_id, id). Added NOT VALID: new
-- rows are checked at once, existing ones in step 11, so nothing is read
-- here. Shim while the app shares the database: the composite key is ON
-- UPDATE CASCADE, so the app's account merge (UPDATE tasks SET user_id)
-- carries the messages along; 0005 has no ON UPDATE action
-- (checks/remove-shims.sql restores that). A merge that slipped in after
-- step 07 is caught by step 09.
-- lock: SHARE ROW EXCLUSIVE on task_messages, tasks, users (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

-- Children first, as the app's writes lock them (see step 02).
LOCK TABLE task_messages, tasks IN SHARE ROW EXCLUSIVE MODE;

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
