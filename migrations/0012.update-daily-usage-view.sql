-- A task's prompt is recorded as its first user message (create_task), and
-- that message has the id of its task. The task itself is already counted
-- against the daily limit, so the view no longer counts its prompt message:
-- one task is one use. Messages written by the TypeScript app (random ids)
-- count as before. Same columns, so CREATE OR REPLACE keeps every dependant.
-- depends: 0011.create-daily-message-limit-function

SET LOCAL lock_timeout = '5s';

CREATE OR REPLACE VIEW daily_usage AS
SELECT
    users.id AS user_id,
    (
        SELECT count(*)
        FROM tasks
        WHERE tasks.user_id = users.id
            AND tasks.deleted_at IS NULL
            AND tasks.created_at >= date_trunc('day', now(), 'UTC')
    ) + (
        -- A message's task always exists (foreign key), so "its task is not
        -- soft-deleted" is "no deleted task has its id": a probe into the
        -- small index of deleted tasks, not a visit of every task row.
        SELECT count(*)
        FROM task_messages
        WHERE task_messages.user_id = users.id
            AND task_messages.role = 'user'
            AND task_messages.created_at >= date_trunc('day', now(), 'UTC')
            AND task_messages.id <> task_messages.task_id
            AND NOT EXISTS (
                SELECT 1
                FROM tasks
                WHERE tasks.id = task_messages.task_id
                    AND tasks.deleted_at IS NOT NULL
            )
    ) AS used,
    (
        SELECT settings.value::integer
        FROM settings
        WHERE settings.user_id = users.id
            AND settings.key = 'maxMessagesPerDay'
            AND settings.value ~ '^[0-9]{1,9}$'
    ) AS max_messages_per_day,
    date_trunc('day', now(), 'UTC') + interval '1 day' AS resets_at
FROM users;

COMMENT ON VIEW daily_usage IS
    'Per user: tasks created today (UTC) + user messages sent today (a task''s prompt message, id = task id, excluded), soft-deleted tasks excluded.';
