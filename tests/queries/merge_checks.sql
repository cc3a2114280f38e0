-- Test-only SQL for the account merge and its races.

-- name: count_waiting_locks()$
-- How many sessions of this database wait for a lock another transaction holds.
SELECT count(*)
FROM pg_stat_activity
WHERE datname = current_database()
    AND wait_event_type = 'Lock';

-- name: count_rows_of_users(user_ids)$
-- How many rows of any table belong to these users (the users rows included).
SELECT
    (SELECT count(*) FROM users WHERE id = ANY(:user_ids::text[]))
    + (SELECT count(*) FROM accounts WHERE user_id = ANY(:user_ids::text[]))
    + (SELECT count(*) FROM keys WHERE user_id = ANY(:user_ids::text[]))
    + (SELECT count(*) FROM tasks WHERE user_id = ANY(:user_ids::text[]))
    + (SELECT count(*) FROM task_messages WHERE user_id = ANY(:user_ids::text[]))
    + (SELECT count(*) FROM connectors WHERE user_id = ANY(:user_ids::text[]))
    + (SELECT count(*) FROM settings WHERE user_id = ANY(:user_ids::text[]))
    + (SELECT count(*) FROM api_tokens WHERE user_id = ANY(:user_ids::text[]));

-- name: count_github_links(external_user_id)$
-- How many users a GitHub account is linked to.
SELECT count(*)
FROM accounts
WHERE provider = 'github'
    AND external_user_id = :external_user_id;
