-- Shim while the TypeScript app shares the database: the app inserts task
-- messages without user_id. This trigger fills it from the message's task,
-- before the NOT NULL and foreign-key checks see the row. Remove it once the
-- app is retired (checks/remove-shims.sql).
-- lock: SHARE ROW EXCLUSIVE on task_messages (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

CREATE OR REPLACE FUNCTION adopt_fill_task_message_user_id()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    SELECT tasks.user_id
    INTO NEW.user_id
    FROM tasks
    WHERE tasks.id = NEW.task_id;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION adopt_fill_task_message_user_id() IS
    'Adoption shim: fills task_messages.user_id for inserts by the TypeScript app.';

DROP TRIGGER IF EXISTS task_messages_fill_user_id ON task_messages;

CREATE TRIGGER task_messages_fill_user_id
BEFORE INSERT ON task_messages
FOR EACH ROW
WHEN (NEW.user_id IS NULL)
EXECUTE FUNCTION adopt_fill_task_message_user_id();
