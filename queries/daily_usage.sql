-- The daily limit: tasks created plus user messages sent per UTC day (view
-- daily_usage, migration 0009), against the user's maxMessagesPerDay setting.

-- name: get_daily_usage(user_id)^
-- Get the user's usage today, when it resets, and their maxMessagesPerDay setting; None if no such user.
SELECT
    daily_usage.used,
    daily_usage.resets_at,
    settings.value AS max_messages_per_day
FROM daily_usage
LEFT JOIN settings
    ON settings.user_id = daily_usage.user_id
    AND settings.key = 'maxMessagesPerDay'
WHERE daily_usage.user_id = :user_id;

-- name: lock_user_for_daily_limit(user_id)^
-- Lock the user's row until the transaction ends, so their limited inserts count one at a time; returns their maxMessagesPerDay setting and the reset time, None if no such user.
SELECT
    settings.value AS max_messages_per_day,
    date_trunc('day', now(), 'UTC') + interval '1 day' AS resets_at
FROM users
LEFT JOIN settings
    ON settings.user_id = users.id
    AND settings.key = 'maxMessagesPerDay'
WHERE users.id = :user_id
FOR NO KEY UPDATE OF users;
