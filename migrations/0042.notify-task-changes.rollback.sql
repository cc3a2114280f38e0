-- Undo 0042.notify-task-changes: followers fall back to their safety-net
-- fetch (every few seconds) until it is applied again.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

DROP TRIGGER task_messages_notify_change ON task_messages;

-- squawk-ignore ban-drop-function
DROP FUNCTION notify_message_change();

DROP TRIGGER tasks_notify_change ON tasks;

-- squawk-ignore ban-drop-function
DROP FUNCTION notify_task_change();
