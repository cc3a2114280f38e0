-- Test-only SQL for the adoption tests: what drizzle's migrator and the
-- TypeScript app send to a database (so rows are written exactly the app's
-- way: no user_id on messages, JSON as JSON.stringify makes it), and a
-- fingerprint of a schema to compare an adopted one with a fresh one.

-- name: create_drizzle_journal#
-- drizzle-kit's journal of applied migrations, as its migrator creates it.
CREATE SCHEMA IF NOT EXISTS drizzle;
CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (
    id SERIAL PRIMARY KEY,
    hash text NOT NULL,
    created_at bigint
);

-- name: record_drizzle_migration(hash, created_at)!
-- Record one applied drizzle migration, as drizzle's migrator does.
INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
VALUES (:hash, :created_at);

-- name: count_drizzle_migrations()$
-- How many migrations drizzle's journal records.
SELECT count(*)
FROM drizzle.__drizzle_migrations;

-- name: app_insert_user(id, provider, external_id, access_token, refresh_token, username, email, created_at)!
-- A sign-in as the app writes it (lib/db/users via drizzle; tokens legacy-encrypted).
INSERT INTO users (
    id,
    provider,
    external_id,
    access_token,
    refresh_token,
    username,
    email,
    created_at,
    updated_at,
    last_login_at
)
VALUES (
    :id,
    :provider,
    :external_id,
    :access_token,
    :refresh_token,
    :username,
    :email,
    :created_at,
    :created_at,
    :created_at
);

-- name: app_insert_account(id, user_id, external_user_id, access_token, username)!
-- A linked GitHub account as the app writes it.
INSERT INTO accounts (id, user_id, provider, external_user_id, access_token, username)
VALUES (:id, :user_id, 'github', :external_user_id, :access_token, :username);

-- name: app_insert_key(id, user_id, provider, value)!
-- An API key as the app writes it.
INSERT INTO keys (id, user_id, provider, value)
VALUES (:id, :user_id, :provider, :value);

-- name: app_insert_task(id, user_id, prompt, repo_url, selected_agent, max_duration, created_at)!
-- A task as the app's POST /api/tasks writes it (logs start as an empty array).
INSERT INTO tasks (
    id,
    user_id,
    prompt,
    repo_url,
    selected_agent,
    max_duration,
    status,
    progress,
    logs,
    created_at,
    updated_at
)
VALUES (
    :id,
    :user_id,
    :prompt,
    :repo_url,
    :selected_agent,
    :max_duration,
    'pending',
    0,
    '[]'::jsonb,
    :created_at,
    :created_at
);

-- name: app_insert_bare_task(id, user_id, prompt)!
-- A task with only the required columns: nullable columns keep drizzle's defaults or null.
INSERT INTO tasks (id, user_id, prompt)
VALUES (:id, :user_id, :prompt);

-- name: app_set_task_max_duration(task_id, max_duration)!
-- Set max_duration raw (the app accepts 0 as "default").
UPDATE tasks
SET max_duration = :max_duration
WHERE id = :task_id;

-- name: app_append_logs(task_id, entries)!
-- lib/utils/task-logger.ts append(): COALESCE(logs, '[]') || JSON.stringify([entry]).
UPDATE tasks
SET
    logs = COALESCE(logs, '[]'::jsonb) || :entries::jsonb,
    updated_at = now()
WHERE id = :task_id;

-- name: app_append_sub_agent(task_id, activity, entries)!
-- task-logger.ts startSubAgent(): appends the activity (status 'starting') and a log entry.
UPDATE tasks
SET
    sub_agent_activity = COALESCE(sub_agent_activity, '[]'::jsonb) || :activity::jsonb,
    current_sub_agent = :activity::jsonb -> 0 ->> 'name',
    logs = COALESCE(logs, '[]'::jsonb) || :entries::jsonb,
    last_heartbeat = now()
WHERE id = :task_id;

-- name: app_insert_message(id, task_id, role, content)!
-- A task message as the app writes it: no user_id.
INSERT INTO task_messages (id, task_id, role, content)
VALUES (:id, :task_id, :role, :content);

-- name: app_insert_connector(id, user_id, name, type, base_url, command, env, oauth_client_secret)!
-- An MCP connector as the app writes it (env and secret legacy-encrypted).
INSERT INTO connectors (id, user_id, name, type, base_url, command, env, oauth_client_secret)
VALUES (:id, :user_id, :name, :type, :base_url, :command, :env, :oauth_client_secret);

-- name: app_insert_setting(id, user_id, key, value)!
-- A user setting as the app writes it.
INSERT INTO settings (id, user_id, key, value)
VALUES (:id, :user_id, :key, :value);

-- name: app_insert_api_token(id, user_id, name, token_hash, token_prefix)!
-- An API token as lib/auth/api-token.ts writes it: sha256 hex of a 64-hex raw token.
INSERT INTO api_tokens (id, user_id, name, token_hash, token_prefix)
VALUES (:id, :user_id, :name, :token_hash, :token_prefix);

-- name: app_merge_user_tasks(old_user_id, new_user_id)$
-- The app's GitHub account merge (app/api/auth/github/callback): move every task; returns the tasks moved.
WITH moved AS (
    UPDATE tasks
    SET user_id = :new_user_id
    WHERE user_id = :old_user_id
    RETURNING id
)
SELECT count(*)
FROM moved;

-- name: app_get_raw_documents(task_id)^
-- A task's JSON documents as stored, as text.
SELECT
    logs::text AS logs,
    sub_agent_activity::text AS sub_agent_activity
FROM tasks
WHERE id = :task_id;

-- name: app_get_message_user_id(message_id)$
-- The user_id stored on a message.
SELECT user_id
FROM task_messages
WHERE id = :message_id;

-- name: schema_fingerprint()$
-- The public schema as a DBA compares it: columns, constraints, indexes, views, functions, triggers, comments (yoyo's own tables left out).
SELECT jsonb_build_object(
    'columns', (
        SELECT jsonb_agg(
            jsonb_build_array(
                columns.table_name,
                columns.column_name,
                columns.data_type,
                columns.is_nullable,
                columns.column_default,
                col_description(
                    format('public.%I', columns.table_name)::regclass,
                    columns.ordinal_position::integer
                )
            )
            ORDER BY columns.table_name, columns.column_name
        )
        FROM information_schema.columns
        WHERE columns.table_schema = 'public'
            AND columns.table_name NOT LIKE '%yoyo%'
    ),
    'tables', (
        SELECT jsonb_agg(
            jsonb_build_array(pg_class.relname, pg_class.relkind, obj_description(pg_class.oid, 'pg_class'))
            ORDER BY pg_class.relname
        )
        FROM pg_class
        WHERE pg_class.relnamespace = 'public'::regnamespace
            AND pg_class.relkind IN ('r', 'v')
            AND pg_class.relname NOT LIKE '%yoyo%'
    ),
    'constraints', (
        SELECT jsonb_agg(
            jsonb_build_array(
                pg_constraint.conrelid::regclass::text,
                pg_constraint.conname,
                pg_get_constraintdef(pg_constraint.oid),
                pg_constraint.convalidated
            )
            ORDER BY pg_constraint.conrelid::regclass::text, pg_constraint.conname
        )
        FROM pg_constraint
        WHERE pg_constraint.connamespace = 'public'::regnamespace
            AND pg_constraint.conrelid::regclass::text NOT LIKE '%yoyo%'
    ),
    'indexes', (
        SELECT jsonb_agg(
            jsonb_build_array(pg_indexes.tablename, pg_indexes.indexname, pg_indexes.indexdef)
            ORDER BY pg_indexes.tablename, pg_indexes.indexname
        )
        FROM pg_indexes
        WHERE pg_indexes.schemaname = 'public'
            AND pg_indexes.tablename NOT LIKE '%yoyo%'
    ),
    'views', (
        SELECT jsonb_agg(
            jsonb_build_array(pg_views.viewname, pg_views.definition)
            ORDER BY pg_views.viewname
        )
        FROM pg_views
        WHERE pg_views.schemaname = 'public'
    ),
    'functions', (
        SELECT jsonb_agg(
            jsonb_build_array(
                pg_proc.proname,
                pg_get_functiondef(pg_proc.oid),
                obj_description(pg_proc.oid, 'pg_proc')
            )
            ORDER BY pg_proc.proname
        )
        FROM pg_proc
        WHERE pg_proc.pronamespace = 'public'::regnamespace
    ),
    'triggers', (
        SELECT jsonb_agg(
            jsonb_build_array(pg_trigger.tgname, pg_get_triggerdef(pg_trigger.oid))
            ORDER BY pg_trigger.tgname
        )
        FROM pg_trigger
        WHERE NOT pg_trigger.tgisinternal
            AND pg_trigger.tgrelid::regclass::text NOT LIKE '%yoyo%'
    )
)::text;

-- name: app_delete_user(user_id)!
-- A DBA removing a user the adoption report stopped on.
DELETE FROM users
WHERE id = :user_id;

-- name: app_delete_connector(connector_id)!
-- A DBA removing a connector the adoption report stopped on.
DELETE FROM connectors
WHERE id = :connector_id;

-- name: app_get_setting_value(setting_id)$
-- A setting's stored value.
SELECT value
FROM settings
WHERE id = :setting_id;

-- name: app_get_task_max_duration(task_id)$
-- A task's stored max_duration.
SELECT max_duration
FROM tasks
WHERE id = :task_id;

-- name: set_raw_task_documents(task_id, logs, sub_agent_activity)!
-- Overwrite a task's JSON documents (through the pool's jsonb codec), as another writer might.
UPDATE tasks
SET
    logs = :logs::jsonb,
    sub_agent_activity = :sub_agent_activity::jsonb
WHERE id = :task_id;

-- name: app_insert_many_messages(task_id, count)!
-- :count messages on one task, written the app's way (no user_id).
INSERT INTO task_messages (id, task_id, role, content)
SELECT
    :task_id || '-bulk-' || n,
    :task_id,
    'agent',
    'line ' || n
FROM generate_series(1, :count) AS n;

-- name: count_messages_without_user_id()$
-- Messages whose user_id is not filled.
SELECT count(*)
FROM task_messages
WHERE user_id IS NULL;

-- name: leave_invalid_index#
-- What a CREATE INDEX CONCURRENTLY killed halfway leaves: an INVALID index under the package's name (here by a unique build that fails on duplicates).
CREATE UNIQUE INDEX CONCURRENTLY tasks_user_id_created_at_idx ON tasks (prompt);

-- name: count_invalid_indexes()$
-- Indexes left INVALID in the public schema.
SELECT count(*)
FROM pg_index
INNER JOIN pg_class
    ON pg_class.oid = pg_index.indexrelid
WHERE pg_class.relnamespace = 'public'::regnamespace
    AND NOT pg_index.indisvalid;
