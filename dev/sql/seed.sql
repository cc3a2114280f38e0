-- Seed data for the plan report (make sql-review): set-based inserts, a few
-- statements per table, at a scale of user_count users. Rows have the shapes
-- the app writes (encrypted-looking secrets, JSONB logs, soft-deleted tasks,
-- messages of today and of the past). Users are u000001, u000002, ...;
-- every tenth user has a task whose log holds log_entries entries.

-- name: seed_users(user_count)$
-- Users, half signed in with GitHub and half with Vercel; returns the count.
WITH inserted AS (
    INSERT INTO users (
        id,
        provider,
        external_id,
        access_token,
        refresh_token,
        scope,
        username,
        email,
        name,
        avatar_url,
        created_at,
        updated_at,
        last_login_at
    )
    SELECT
        'u' || lpad(n::text, 6, '0') AS id,
        CASE WHEN n % 2 = 0 THEN 'github' ELSE 'vercel' END AS provider,
        'ext-' || n AS external_id,
        'v1:0a1b2c3d:' || encode(sha512(n::text::bytea), 'base64') AS access_token,
        NULL AS refresh_token,
        'repo,read:user' AS scope,
        'user' || n AS username,
        'user' || n || '@example.com' AS email,
        'User ' || n AS name,
        'https://avatars.example.com/' || n AS avatar_url,
        now() - interval '400 days' AS created_at,
        now() - (n % 30) * interval '1 day' AS updated_at,
        now() - (n % 30) * interval '1 day' AS last_login_at
    FROM generate_series(1, :user_count) AS n
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: seed_accounts()$
-- A linked GitHub account for every Vercel user; returns the count.
WITH inserted AS (
    INSERT INTO accounts (
        id,
        user_id,
        provider,
        external_user_id,
        access_token,
        username
    )
    SELECT
        users.id || '-gh' AS id,
        users.id AS user_id,
        'github' AS provider,
        'gh-' || users.id AS external_user_id,
        'v1:0a1b2c3d:' || encode(sha512(users.id::bytea), 'base64') AS access_token,
        users.username
    FROM users
    WHERE users.provider = 'vercel'
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: seed_keys()$
-- Two AI-provider keys per user; returns the count.
WITH inserted AS (
    INSERT INTO keys (
        id,
        user_id,
        provider,
        value
    )
    SELECT
        users.id || '-' || provider.name AS id,
        users.id AS user_id,
        provider.name AS provider,
        'v1:0a1b2c3d:' || encode(sha512(users.id::bytea), 'base64') AS value
    FROM users
    CROSS JOIN (VALUES ('anthropic'), ('openai')) AS provider (name)
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: seed_settings()$
-- A daily limit for every fourth user and a second setting for all; returns the count.
WITH inserted AS (
    INSERT INTO settings (
        id,
        user_id,
        key,
        value
    )
    SELECT
        users.id || '-' || setting.key AS id,
        users.id AS user_id,
        setting.key,
        setting.value
    FROM users
    CROSS JOIN (
        VALUES ('maxMessagesPerDay', '50'), ('theme', 'dark')
    ) AS setting (key, value)
    WHERE setting.key <> 'maxMessagesPerDay'
        OR right(users.id, 1) IN ('0', '4')
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: seed_connectors()$
-- Three MCP servers per user, one local and two remote; returns the count.
WITH inserted AS (
    INSERT INTO connectors (
        id,
        user_id,
        name,
        description,
        type,
        base_url,
        oauth_client_id,
        oauth_client_secret,
        command,
        env,
        status
    )
    SELECT
        users.id || '-c' || n AS id,
        users.id AS user_id,
        'server ' || n AS name,
        'An MCP server' AS description,
        CASE WHEN n = 1 THEN 'local' ELSE 'remote' END AS type,
        CASE WHEN n = 1 THEN NULL ELSE 'https://mcp' || n || '.example.com' END AS base_url,
        CASE WHEN n = 3 THEN 'client-' || users.id END AS oauth_client_id,
        CASE WHEN n = 3 THEN 'v1:0a1b2c3d:c2VjcmV0' END AS oauth_client_secret,
        CASE WHEN n = 1 THEN 'npx some-mcp-server' END AS command,
        CASE WHEN n = 1 THEN 'v1:0a1b2c3d:ZW52' END AS env,
        'connected' AS status
    FROM users
    CROSS JOIN generate_series(1, 3) AS n
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: seed_api_tokens()$
-- Two API tokens per user, one of them expiring; returns the count.
WITH inserted AS (
    INSERT INTO api_tokens (
        id,
        user_id,
        name,
        token_hash,
        token_prefix,
        last_used_at,
        expires_at
    )
    SELECT
        users.id || '-k' || n AS id,
        users.id AS user_id,
        'token ' || n AS name,
        encode(sha256((users.id || '-k' || n)::bytea), 'hex') AS token_hash,
        'cadb_' || n AS token_prefix,
        now() - interval '1 hour' AS last_used_at,
        CASE WHEN n = 2 THEN now() + interval '30 days' END AS expires_at
    FROM users
    CROSS JOIN generate_series(1, 2) AS n
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: seed_tasks(tasks_per_user)$
-- tasks_per_user tasks per user, one every 9 hours back from now (so a few are today's), 2% soft-deleted; returns the count.
WITH inserted AS (
    INSERT INTO tasks (
        id,
        user_id,
        prompt,
        title,
        repo_url,
        selected_agent,
        selected_model,
        status,
        progress,
        branch_name,
        sandbox_id,
        mcp_server_ids,
        created_at,
        updated_at,
        completed_at,
        deleted_at
    )
    SELECT
        users.id || '-t' || n AS id,
        users.id AS user_id,
        'Fix the failing test in module ' || n AS prompt,
        'Fix test ' || n AS title,
        'https://github.com/example/repo' || (n % 7) AS repo_url,
        (ARRAY['claude', 'codex', 'cursor', 'gemini'])[1 + n % 4] AS selected_agent,
        'model-' || (n % 3) AS selected_model,
        CASE WHEN n <= 2 THEN 'processing' WHEN n % 10 = 0 THEN 'error' ELSE 'completed' END
            AS status,
        CASE WHEN n <= 2 THEN 40 ELSE 100 END AS progress,
        'agent/task-' || n AS branch_name,
        'sbx-' || users.id || '-' || n AS sandbox_id,
        '[]'::jsonb AS mcp_server_ids,
        now() - n * interval '9 hours' AS created_at,
        now() - n * interval '9 hours' + interval '10 minutes' AS updated_at,
        CASE WHEN n > 2 THEN now() - n * interval '9 hours' + interval '10 minutes' END
            AS completed_at,
        CASE WHEN n % 50 = 7 THEN now() - n * interval '8 hours' END AS deleted_at
    FROM users
    CROSS JOIN generate_series(1, :tasks_per_user) AS n
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: seed_long_logs(log_entries)$
-- Give the first task of every tenth user a log of log_entries entries; returns the number of tasks.
WITH log AS (
    SELECT
        jsonb_agg(
            jsonb_build_object(
                'type', CASE WHEN n % 20 = 0 THEN 'command' ELSE 'info' END,
                'message', 'Step ' || n || ': running the test suite and reading its output',
                'timestamp', to_char(now() - interval '9 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            )
            ORDER BY n
        ) AS entries
    FROM generate_series(1, :log_entries) AS n
),

updated AS (
    UPDATE tasks
    SET logs = log.entries
    FROM log
    WHERE tasks.id IN (
            SELECT users.id || '-t1' AS id
            FROM users
            WHERE right(users.id, 1) = '1'
        )
    RETURNING 1
)

SELECT count(*) AS updated
FROM updated;

-- name: seed_short_logs()$
-- Give every 25th task a log of 20 entries; returns the number of tasks.
WITH updated AS (
    UPDATE tasks
    SET
        logs = (
            SELECT
                jsonb_agg(
                    jsonb_build_object(
                        'type', 'info',
                        'message', 'Step ' || n,
                        'timestamp', '2026-01-01T00:00:00Z'
                    )
                )
            FROM generate_series(1, 20) AS n
        )
    WHERE right(tasks.id, 2) IN ('25', '50', '75', '00')
        AND jsonb_array_length(tasks.logs) = 0
    RETURNING 1
)

SELECT count(*) AS updated
FROM updated;

-- name: seed_messages(tasks_with_messages)$
-- A user message and an agent reply on each user's newest tasks_with_messages tasks; returns the count.
WITH inserted AS (
    INSERT INTO task_messages (
        id,
        task_id,
        user_id,
        role,
        content,
        created_at
    )
    SELECT
        tasks.id || '-' || author.name AS id,
        tasks.id AS task_id,
        tasks.user_id,
        author.name AS role,
        CASE
            WHEN author.name = 'user' THEN 'Please also update the changelog.'
            ELSE 'Done: the changelog is updated and the tests pass.'
        END AS content,
        tasks.created_at + author.after_task AS created_at
    FROM tasks
    CROSS JOIN (
        VALUES ('user', interval '1 minute'), ('agent', interval '2 minutes')
    ) AS author (name, after_task)
    WHERE tasks.created_at > now() - :tasks_with_messages * interval '9 hours'
    RETURNING 1
)

SELECT count(*) AS inserted
FROM inserted;

-- name: analyze_seeded_tables#
-- Refresh planner statistics after seeding, as autovacuum would.
VACUUM ANALYZE users, accounts, keys, settings, connectors, api_tokens, tasks, task_messages;
