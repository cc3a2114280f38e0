-- The daily limit counts, per user, the tasks created today (UTC) plus the
-- user-role messages sent today, both only on tasks that are not soft-deleted.
-- This view is the one definition of that count and of the user's limit
-- setting (maxMessagesPerDay, when it holds a whole number): the rate-limit
-- check and the limited inserts in queries/ read it, so they cannot disagree.
-- Filtered by user_id it is planned through the partial indexes of 0004/0005
-- and reads a few index pages per counted row.
-- depends: 0005.create-task-messages 0007.create-settings

SET LOCAL lock_timeout = '5s';

CREATE VIEW daily_usage AS
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
    'Per user: tasks created today (UTC) + user messages sent today, soft-deleted tasks excluded.';
COMMENT ON COLUMN daily_usage.max_messages_per_day IS
    'The user''s maxMessagesPerDay setting when it is a whole number, else null (the default applies).';
