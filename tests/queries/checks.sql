-- Test-only SQL: raw statements that bypass the data layer on purpose, to
-- check what the database itself enforces and what it stores.

-- name: list_check_constraints()
-- Every CHECK constraint of the public schema, with its definition.
SELECT
    conrelid::regclass::text AS table_name,
    conname AS name,
    pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE contype = 'c'
    AND connamespace = 'public'::regnamespace
ORDER BY table_name, name;

-- name: list_columns()
-- Every column of the public tables.
SELECT
    table_name,
    column_name,
    is_nullable,
    data_type
FROM information_schema.columns
WHERE table_schema = 'public'
ORDER BY table_name, ordinal_position;

-- name: insert_raw_user(id, provider, external_id)!
-- Insert a user with raw values, bypassing validation.
INSERT INTO users (id, provider, external_id, access_token, username)
VALUES (:id, :provider, :external_id, 'x', 'raw');

-- name: insert_raw_task(id, user_id, selected_agent, status, progress, pr_status)!
-- Insert a task with raw values, bypassing validation.
INSERT INTO tasks (id, user_id, prompt, selected_agent, status, progress, pr_status)
VALUES (:id, :user_id, 'raw', :selected_agent, :status, :progress, :pr_status);

-- name: insert_raw_message(id, user_id, task_id, role)!
-- Insert a message with raw values, bypassing validation.
INSERT INTO task_messages (id, user_id, task_id, role, content)
VALUES (:id, :user_id, :task_id, :role, 'raw');

-- name: insert_raw_key(id, user_id, provider)!
-- Insert a key with raw values, bypassing validation.
INSERT INTO keys (id, user_id, provider, value)
VALUES (:id, :user_id, :provider, 'x');

-- name: insert_raw_connector(id, user_id, type, status, base_url, command)!
-- Insert a connector with raw values, bypassing validation.
INSERT INTO connectors (id, user_id, name, type, status, base_url, command)
VALUES (:id, :user_id, 'raw', :type, :status, :base_url, :command);

-- name: insert_raw_account(id, user_id, provider)!
-- Insert a linked account with raw values, bypassing validation.
INSERT INTO accounts (id, user_id, provider, external_user_id, access_token, username)
VALUES (:id, :user_id, :provider, 'x', 'x', 'raw');

-- name: dump_all_rows()
-- Every row of every table of the data layer, as JSON text.
SELECT to_jsonb(users)::text AS row_text FROM users
UNION ALL
SELECT to_jsonb(accounts)::text FROM accounts
UNION ALL
SELECT to_jsonb(keys)::text FROM keys
UNION ALL
SELECT to_jsonb(tasks)::text FROM tasks
UNION ALL
SELECT to_jsonb(task_messages)::text FROM task_messages
UNION ALL
SELECT to_jsonb(connectors)::text FROM connectors
UNION ALL
SELECT to_jsonb(settings)::text FROM settings
UNION ALL
SELECT to_jsonb(api_tokens)::text FROM api_tokens;

-- name: get_raw_key_value(user_id, provider)$
-- The stored (encrypted) value of a key.
SELECT value FROM keys WHERE user_id = :user_id AND provider = :provider;

-- name: set_raw_key_value(user_id, provider, value)!
-- Overwrite the stored (encrypted) value of a key.
UPDATE keys SET value = :value WHERE user_id = :user_id AND provider = :provider;

-- name: get_raw_task(task_id)^
-- A task row as stored, deleted or not.
SELECT id, user_id, logs, deleted_at, completed_at, status FROM tasks WHERE id = :task_id;

-- name: set_raw_task_logs_null(task_id)!
-- Null a task's log, as rows written by older code may have it.
UPDATE tasks SET logs = NULL WHERE id = :task_id;

-- name: set_raw_task_dates(task_id, created_at, deleted_at)!
-- Move a task in time (created_at, deleted_at).
UPDATE tasks SET created_at = :created_at, deleted_at = :deleted_at WHERE id = :task_id;

-- name: set_raw_message_created_at(message_id, created_at)!
-- Move a message in time.
UPDATE task_messages SET created_at = :created_at WHERE id = :message_id;

-- name: set_raw_token_expiry(token_id, expires_at)!
-- Expire (or unexpire) an API token behind the API's back.
UPDATE api_tokens SET expires_at = :expires_at WHERE id = :token_id;

-- name: get_raw_token(token_id)^
-- An API token row as stored.
SELECT token_hash, token_prefix, last_used_at FROM api_tokens WHERE id = :token_id;

-- name: insert_raw_token(id, user_id, token_hash)!
-- Insert a token row as the TypeScript app stored it (SHA-256 hex of the raw token).
INSERT INTO api_tokens (id, user_id, name, token_hash, token_prefix)
VALUES (:id, :user_id, 'legacy', :token_hash, 'legacy');

-- name: count_rows(user_id)^
-- How many rows of each table the user owns.
SELECT
    (SELECT count(*) FROM users WHERE id = :user_id) AS users,
    (SELECT count(*) FROM accounts WHERE user_id = :user_id) AS accounts,
    (SELECT count(*) FROM keys WHERE user_id = :user_id) AS keys,
    (SELECT count(*) FROM tasks WHERE user_id = :user_id) AS tasks,
    (SELECT count(*) FROM task_messages WHERE user_id = :user_id) AS task_messages,
    (SELECT count(*) FROM connectors WHERE user_id = :user_id) AS connectors,
    (SELECT count(*) FROM settings WHERE user_id = :user_id) AS settings,
    (SELECT count(*) FROM api_tokens WHERE user_id = :user_id) AS api_tokens;

-- name: insert_bulk_tasks(user_count, tasks_per_user)$
-- Fill the tables with tasks and user messages spread over many users, for plan checks; returns the task count.
WITH new_users AS (
    INSERT INTO users (id, provider, external_id, access_token, username)
    SELECT 'bulk-' || n, 'vercel', 'bulk-' || n, 'x', 'bulk'
    FROM generate_series(1, :user_count) AS n
    RETURNING id
),
new_tasks AS (
    INSERT INTO tasks (id, user_id, prompt, created_at)
    SELECT
        new_users.id || '-' || n,
        new_users.id,
        'bulk',
        now() - (n || ' hours')::interval
    FROM new_users, generate_series(1, :tasks_per_user) AS n
    RETURNING id, user_id, created_at
),
new_messages AS (
    INSERT INTO task_messages (id, task_id, user_id, role, content, created_at)
    SELECT new_tasks.id || '-m', new_tasks.id, new_tasks.user_id, 'user', 'bulk', new_tasks.created_at
    FROM new_tasks
    RETURNING 1
)
SELECT count(*) FROM new_tasks;

-- name: analyze_tables#
-- Refresh planner statistics.
ANALYZE users, tasks, task_messages, settings;

-- name: fingerprint_user_rows(user_id)$
-- A digest of every row the user owns, and of the number of users: changes when any of them does.
SELECT md5(string_agg(row_text, ',' ORDER BY row_text))
FROM (
    SELECT (SELECT count(*) FROM users)::text AS row_text
    UNION ALL
    SELECT to_jsonb(users)::text FROM users WHERE id = :user_id
    UNION ALL
    SELECT to_jsonb(accounts)::text FROM accounts WHERE user_id = :user_id
    UNION ALL
    SELECT to_jsonb(keys)::text FROM keys WHERE user_id = :user_id
    UNION ALL
    SELECT to_jsonb(tasks)::text FROM tasks WHERE user_id = :user_id
    UNION ALL
    SELECT to_jsonb(task_messages)::text FROM task_messages WHERE user_id = :user_id
    UNION ALL
    SELECT to_jsonb(connectors)::text FROM connectors WHERE user_id = :user_id
    UNION ALL
    SELECT to_jsonb(settings)::text FROM settings WHERE user_id = :user_id
    UNION ALL
    SELECT to_jsonb(api_tokens)::text FROM api_tokens WHERE user_id = :user_id
) AS owned;

-- name: list_index_keys()
-- Every index of the public tables: its table, its first key column and its predicate.
SELECT
    index_class.relname AS index_name,
    table_class.relname AS table_name,
    pg_get_indexdef(pg_index.indexrelid, 1, true) AS first_column,
    pg_get_expr(pg_index.indpred, pg_index.indrelid, true) AS predicate
FROM pg_index
INNER JOIN pg_class AS index_class ON index_class.oid = pg_index.indexrelid
INNER JOIN pg_class AS table_class ON table_class.oid = pg_index.indrelid
INNER JOIN pg_namespace ON pg_namespace.oid = table_class.relnamespace
WHERE pg_namespace.nspname = 'public';
