-- Test-only SQL for the app-parity tests: the account merge and its races, rows as the app writes them.

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

-- name: set_raw_sub_agent_activity(task_id, activity)!
-- Store a task's sub-agent activity as the TypeScript app writes it, bypassing the API.
UPDATE tasks SET sub_agent_activity = :activity WHERE id = :task_id;

-- name: insert_raw_app_message(id, user_id, task_id, content)!
-- Insert a user message as the TypeScript app's process-task saves the prompt (random id).
INSERT INTO task_messages (id, user_id, task_id, role, content)
VALUES (:id, :user_id, :task_id, 'user', :content);
