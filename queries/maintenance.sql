-- Maintenance: what the operator commands (coding-agent-db status / doctor)
-- read across every table. None of these can be scoped by user_id: each says
-- why in its doc line, and the contract test lists them.

-- name: get_server_version()$
-- Unscoped (maintenance: doctor): the server's version string, e.g. '15.8 (Debian 15.8-1.pgdg120+1)'.
SELECT current_setting('server_version') AS server_version;

-- name: get_row_counts()^
-- Unscoped (maintenance: status): exact row counts of every table, with the soft-deleted tasks and expired API tokens awaiting a purge.
SELECT
    (SELECT count(*) FROM users) AS users,
    (SELECT count(*) FROM accounts) AS accounts,
    (SELECT count(*) FROM keys) AS keys,
    (SELECT count(*) FROM tasks) AS tasks,
    (SELECT count(*) FROM tasks WHERE deleted_at IS NOT NULL) AS deleted_tasks,
    (SELECT count(*) FROM task_messages) AS task_messages,
    (SELECT count(*) FROM connectors) AS connectors,
    (SELECT count(*) FROM settings) AS settings,
    (SELECT count(*) FROM api_tokens) AS api_tokens,
    (SELECT count(*) FROM api_tokens WHERE expires_at < now()) AS expired_api_tokens;

-- name: list_secret_counts()
-- Unscoped (maintenance: status): stored secrets per table, column, format and key id (the 'v1:<key id>:' prefix; legacy values name no key).
WITH secrets AS (
    SELECT
        'users' AS table_name,
        'access_token' AS column_name,
        access_token AS stored
    FROM users
    UNION ALL
    SELECT
        'users',
        'refresh_token',
        refresh_token
    FROM users
    UNION ALL
    SELECT
        'accounts',
        'access_token',
        access_token
    FROM accounts
    UNION ALL
    SELECT
        'accounts',
        'refresh_token',
        refresh_token
    FROM accounts
    UNION ALL
    SELECT
        'keys',
        'value',
        value
    FROM keys
    UNION ALL
    SELECT
        'connectors',
        'oauth_client_secret',
        oauth_client_secret
    FROM connectors
    UNION ALL
    SELECT
        'connectors',
        'env',
        env
    FROM connectors
),
classified AS (
    SELECT
        table_name,
        column_name,
        CASE
            WHEN stored LIKE 'v1:%' THEN 'authenticated'
            WHEN stored ~ '^[0-9a-fA-F]{32}:([0-9a-fA-F]{32})+$' THEN 'legacy'
            ELSE 'unrecognised'
        END AS format,
        CASE
            WHEN stored LIKE 'v1:%' THEN split_part(stored, ':', 2)
        END AS key_id
    FROM secrets
    WHERE stored IS NOT NULL
)
SELECT
    table_name,
    column_name,
    format,
    key_id,
    count(*) AS count
FROM classified
GROUP BY table_name, column_name, format, key_id
ORDER BY table_name, column_name, format, key_id NULLS FIRST;

-- name: get_migration_lock()^
-- Unscoped (maintenance: doctor): yoyo's migration lock row, if a migration holds (or a killed one left) it; ctime is UTC.
SELECT
    ctime AT TIME ZONE 'UTC' AS locked_at,
    pid
FROM yoyo_lock;
