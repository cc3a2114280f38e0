-- Push (coding_agent_db.follow): a change a follower waits for notifies,
-- in the statement that makes it and delivered only when it commits. A task
-- whose log or status is written notifies channel coding_agent_db_tasks; an
-- agent reply whose content or end is written notifies
-- coding_agent_db_messages. The payload is '<id> <length>' (the log's
-- entries, the reply's characters): ids and lengths, never content. Every
-- follower then reads the change through its own user-scoped query.
--
-- Triggers rather than a pg_notify in each query of queries/, so that the
-- TypeScript app's writes, while it shares the database, are pushed too.
-- Creating functions and triggers only touches the catalog.
-- depends: 0041.seal-long-task-logs

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

CREATE FUNCTION notify_task_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify(
        'coding_agent_db_tasks',
        NEW.id || ' ' || (NEW.logs_offset + COALESCE(jsonb_array_length(NEW.logs), 0))
    );
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION notify_task_change() IS
    'Trigger of tasks: NOTIFY coding_agent_db_tasks, ''<task id> <log length>'', when a task''s log or status is written (delivered on commit).';

CREATE TRIGGER tasks_notify_change
AFTER UPDATE OF logs, status ON tasks
FOR EACH ROW
EXECUTE FUNCTION notify_task_change();

CREATE FUNCTION notify_message_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify(
        'coding_agent_db_messages', NEW.id || ' ' || length(NEW.content)
    );
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION notify_message_change() IS
    'Trigger of task_messages: NOTIFY coding_agent_db_messages, ''<message id> <length>'', when an agent reply''s content or end is written (delivered on commit).';

CREATE TRIGGER task_messages_notify_change
AFTER UPDATE OF content, completed_at ON task_messages
FOR EACH ROW
WHEN (NEW.role = 'agent')
EXECUTE FUNCTION notify_message_change();
