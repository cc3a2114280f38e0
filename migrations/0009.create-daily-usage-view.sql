-- The daily limit counts, per user, the tasks created today (UTC) plus the
-- user-role messages sent today, both only on tasks that are not soft-deleted.
-- This view is the one definition of that count: the rate-limit check and the
-- limited inserts in queries/ read it, so they can never disagree. Filtered by
-- user_id it is planned through the partial indexes of 0004 and 0005.
-- depends: 0005.create-task-messages

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
        SELECT count(*)
        FROM task_messages
        INNER JOIN tasks
            ON tasks.user_id = task_messages.user_id
            AND tasks.id = task_messages.task_id
        WHERE task_messages.user_id = users.id
            AND task_messages.role = 'user'
            AND task_messages.created_at >= date_trunc('day', now(), 'UTC')
            AND tasks.deleted_at IS NULL
    ) AS used,
    date_trunc('day', now(), 'UTC') + interval '1 day' AS resets_at
FROM users;

COMMENT ON VIEW daily_usage IS
    'Per user: tasks created today (UTC) + user messages sent today, soft-deleted tasks excluded.';
