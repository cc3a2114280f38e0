-- Once the TypeScript app no longer writes to the database, the shims of
-- adoption go: the triggers that fill task_messages.user_id and default
-- tasks.max_duration (step 04), the ON UPDATE CASCADE of
-- task_messages_task_fkey (step 08), which becomes the plain key of 0005,
-- and the unique indexes on id alone (step 24). The schema is then exactly
-- that of this package's migrations. Safe to run on any database at 0010 or
-- later (a fresh one has no shim). Meant to become a numbered migration when
-- the app is retired.
-- lock: SHARE ROW EXCLUSIVE on task_messages, tasks (brief); ACCESS EXCLUSIVE on each table of an id index while it is dropped; the key is re-added NOT VALID and validated

SET LOCAL lock_timeout = '5s';

DROP TRIGGER IF EXISTS task_messages_fill_user_id ON task_messages;

DROP FUNCTION IF EXISTS adopt_fill_task_message_user_id();

DROP TRIGGER IF EXISTS tasks_default_max_duration ON tasks;

DROP FUNCTION IF EXISTS adopt_default_task_max_duration();

DO $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM pg_constraint
        WHERE pg_constraint.conrelid = 'task_messages'::regclass
            AND pg_constraint.conname = 'task_messages_task_fkey'
            AND pg_constraint.confupdtype = 'c'
    ) THEN
        ALTER TABLE task_messages
            DROP CONSTRAINT task_messages_task_fkey;
        ALTER TABLE task_messages
            ADD CONSTRAINT task_messages_task_fkey FOREIGN KEY (user_id, task_id)
            REFERENCES tasks (user_id, id) ON DELETE CASCADE
            NOT VALID;
        ALTER TABLE task_messages
            VALIDATE CONSTRAINT task_messages_task_fkey;
    END IF;
END;
$$;

DROP INDEX IF EXISTS tasks_id_key;

DROP INDEX IF EXISTS task_messages_id_key;

DROP INDEX IF EXISTS connectors_id_key;

DROP INDEX IF EXISTS accounts_id_key;

DROP INDEX IF EXISTS api_tokens_id_key;
