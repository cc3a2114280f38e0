-- Bench-only SQL: a database in the TypeScript app's shape, filled in bulk
-- with rows shaped as the app writes them, and the app's writes that run
-- while it is adopted.

-- name: seed_app_users(user_count, ciphertext)!
-- Users, each with 2 keys, a linked account, a connector, a setting and an API token.
WITH made AS (
    INSERT INTO users (id, provider, external_id, access_token, username, created_at, updated_at, last_login_at)
    SELECT
        'user-' || n,
        'github',
        n::text,
        :ciphertext,
        'person' || n,
        timestamp '2025-01-01' + n * interval '1 minute',
        timestamp '2025-01-01' + n * interval '1 minute',
        timestamp '2025-01-01' + n * interval '1 minute'
    FROM generate_series(1, :user_count) AS n
    RETURNING id
)
INSERT INTO keys (id, user_id, provider, value)
SELECT
    made.id || '-' || provider.name,
    made.id,
    provider.name,
    :ciphertext
FROM made
CROSS JOIN (VALUES ('anthropic'), ('openai')) AS provider (name);

-- name: seed_app_user_extras()!
-- Per user: a linked account, a remote connector, a setting, an API token.
WITH accounts_made AS (
    INSERT INTO accounts (id, user_id, external_user_id, access_token, username)
    SELECT
        'account-' || users.id,
        users.id,
        users.external_id,
        users.access_token,
        users.username
    FROM users
), connectors_made AS (
    INSERT INTO connectors (id, user_id, name, type, base_url)
    SELECT
        'connector-' || users.id,
        users.id,
        'docs',
        'remote',
        'https://mcp.example.com'
    FROM users
), settings_made AS (
    INSERT INTO settings (id, user_id, key, value)
    SELECT
        'setting-' || users.id,
        users.id,
        'maxMessagesPerDay',
        '50'
    FROM users
)
INSERT INTO api_tokens (id, user_id, name, token_hash, token_prefix)
SELECT
    'token-' || users.id,
    users.id,
    'ci',
    encode(sha256(convert_to(users.id, 'UTF8')), 'hex'),
    left(encode(sha256(convert_to(users.id, 'UTF8')), 'hex'), 8)
FROM users;

-- name: seed_app_tasks(tasks_per_user, log_entries)!
-- Tasks with a log of :log_entries entries and one sub-agent, and 2 messages each without user_id.
WITH made AS (
    INSERT INTO tasks (id, user_id, prompt, status, progress, logs, sub_agent_activity, created_at, updated_at)
    SELECT
        users.id || '-task-' || n,
        users.id,
        'Fix the flaky test number ' || n,
        'completed',
        100,
        (
            SELECT jsonb_agg(
                jsonb_build_object(
                    'type', 'info',
                    'message', 'Running step ' || entry || ' of the agent with some output text..',
                    'timestamp', '2025-03-01T12:00:00.000Z'
                )
            )
            FROM generate_series(1, :log_entries) AS entry
        ),
        jsonb_build_array(
            jsonb_build_object(
                'id', 'sub-' || n,
                'name', 'Explore',
                'status', 'starting',
                'startedAt', '2025-03-01T12:00:00.000Z'
            )
        ),
        timestamp '2025-03-01' + n * interval '1 minute',
        timestamp '2025-03-01' + n * interval '1 minute'
    FROM users
    CROSS JOIN generate_series(1, :tasks_per_user) AS n
    RETURNING id
)
INSERT INTO task_messages (id, task_id, role, content)
SELECT
    made.id || '-' || role.name,
    made.id,
    role.name,
    'a message of the conversation'
FROM made
CROSS JOIN (VALUES ('user'), ('agent')) AS role (name);

-- name: app_write_message(id, task_id)!
-- The app's message insert (no user_id), as it runs during adoption.
INSERT INTO task_messages (id, task_id, role, content)
VALUES (:id, :task_id, 'user', 'written while adopting');

-- name: app_write_log(task_id, entries)!
-- The app's log append, as it runs during adoption.
UPDATE tasks
SET
    logs = COALESCE(logs, '[]'::jsonb) || :entries::jsonb,
    updated_at = now()
WHERE id = :task_id;

-- name: analyze_app_tables#
-- Fresh statistics after the bulk load, as autovacuum would have them.
ANALYZE;
