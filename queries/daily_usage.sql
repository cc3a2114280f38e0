-- The daily limit: tasks created plus user messages sent per UTC day, and the
-- user's maxMessagesPerDay setting (view daily_usage, migration 0009).
-- The limited inserts lock and count through lock_daily_usage() (migration
-- 0010) in their own statement; see create_task and create_user_message.

-- name: get_daily_usage(user_id)^
-- Get the user's usage today, their limit setting (null: the default applies) and when the count resets; None if no such user.
SELECT
    used,
    max_messages_per_day,
    resets_at
FROM daily_usage
WHERE user_id = :user_id;
