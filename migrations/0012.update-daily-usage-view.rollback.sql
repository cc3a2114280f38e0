-- Undo 0012.update-daily-usage-view: count every user message again.
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
