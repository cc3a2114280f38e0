-- The daily limit: tasks created plus user messages sent per UTC day, and the
-- user's limit (view daily_usage, migrations 0009 and 0012; function
-- daily_message_limit, migration 0011: admin domain, else their
-- maxMessagesPerDay setting, else default_daily_limit).
-- The limited inserts lock and count through lock_daily_usage() (migration
-- 0010) in their own statement; see create_task and create_user_message.

-- name: get_daily_usage(user_id, default_daily_limit, admin_email_domains, admin_daily_limit)^
-- Get the user's usage today, their limit and when the count resets; None if no such user.
SELECT
    daily_usage.used,
    daily_message_limit(
        users.email,
        daily_usage.max_messages_per_day,
        :default_daily_limit,
        :admin_email_domains::text[],
        :admin_daily_limit
    ) AS total,
    daily_usage.resets_at
FROM daily_usage
INNER JOIN users
    ON users.id = daily_usage.user_id
WHERE daily_usage.user_id = :user_id;
