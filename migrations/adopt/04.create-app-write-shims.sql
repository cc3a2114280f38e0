-- Shims while the TypeScript app shares the database, so its writes keep
-- working once the package's constraints are in place:
-- - it inserts task messages without user_id: a trigger fills it from the
--   message's task, before the NOT NULL and foreign-key checks see the row;
-- - it stores max_duration 0 (or less) to mean "the default": a trigger
--   stores 300 instead, as step 01 does for existing rows, before
--   tasks_max_duration_check sees the row. Its WHEN clause is evaluated
--   without calling the function, so other task writes pay nothing.
-- Remove both once the app is retired (checks/remove-shims.sql).
-- lock: SHARE ROW EXCLUSIVE on task_messages, tasks (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

-- Children first, as the app's writes lock them (see step 02).
LOCK TABLE task_messages, tasks IN SHARE ROW EXCLUSIVE MODE;

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

CREATE OR REPLACE FUNCTION adopt_default_task_max_duration()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.max_duration := 300;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION adopt_default_task_max_duration() IS
    'Adoption shim: the TypeScript app''s max_duration 0 ("the default") is stored as 300.';

DROP TRIGGER IF EXISTS tasks_default_max_duration ON tasks;

CREATE TRIGGER tasks_default_max_duration
BEFORE INSERT OR UPDATE OF max_duration ON tasks
FOR EACH ROW
WHEN (NEW.max_duration IS NULL OR NEW.max_duration <= 0)
EXECUTE FUNCTION adopt_default_task_max_duration();
