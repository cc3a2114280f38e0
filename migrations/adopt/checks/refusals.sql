-- Every row the package's constraints would refuse (or, for settings, read
-- differently from the app), with what adoption does about it:
--   normalise: step 01.normalise-rows rewrites the value as stated in `fix`;
--   stop: adoption changes nothing until a person fixes or removes the row;
--   keep: the row is kept as it is; `fix` says how the package reads it.
-- CHECK constraints pass NULL, so a value violates one when its expression
-- IS FALSE. Runs on the app's schema and on a half-adopted one alike.
SELECT
    refusal.table_name,
    refusal.row_id,
    refusal.rule,
    refusal.found,
    refusal.action,
    refusal.fix
FROM (
    SELECT
        'users' AS table_name,
        users.id AS row_id,
        'users_external_id_check' AS rule,
        'external_id is empty' AS found,
        'stop' AS action,
        'set the provider''s user id (UPDATE users SET external_id = ...) or delete the user' AS fix
    FROM users
    WHERE users.external_id = ''
    UNION ALL
    SELECT
        'users',
        users.id,
        'users_username_check',
        'username is empty',
        'stop',
        'set a username or delete the user'
    FROM users
    WHERE users.username = ''
    UNION ALL
    SELECT
        'users',
        users.id,
        'users_provider_check',
        format('provider %L', users.provider),
        'stop',
        'set provider to github or vercel, or delete the user'
    FROM users
    WHERE users.provider NOT IN ('github', 'vercel')
    UNION ALL
    SELECT
        'accounts',
        accounts.id,
        'accounts_provider_check',
        format('provider %L', accounts.provider),
        'stop',
        'set provider to github or delete the account'
    FROM accounts
    WHERE accounts.provider NOT IN ('github')
    UNION ALL
    SELECT
        'accounts',
        accounts.id,
        'accounts_external_user_id_check',
        'external_user_id is empty',
        'stop',
        'set the GitHub user id or delete the account'
    FROM accounts
    WHERE accounts.external_user_id = ''
    UNION ALL
    SELECT
        'accounts',
        accounts.id,
        'accounts_username_check',
        'username is empty',
        'stop',
        'set the GitHub username or delete the account'
    FROM accounts
    WHERE accounts.username = ''
    UNION ALL
    SELECT
        'keys',
        keys.id,
        'keys_provider_check',
        format('provider %L', keys.provider),
        'stop',
        'set a known provider or delete the key'
    FROM keys
    WHERE keys.provider NOT IN ('anthropic', 'openai', 'cursor', 'gemini', 'aigateway', 'github')
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_prompt_check',
        'prompt is empty',
        'stop',
        'set a prompt or delete the task'
    FROM tasks
    WHERE tasks.prompt = ''
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_selected_agent_not_null_proof',
        'selected_agent is null',
        'normalise',
        'set to ''claude'' (the column default)'
    FROM tasks
    WHERE tasks.selected_agent IS NULL
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_selected_agent_check',
        format('selected_agent %L', tasks.selected_agent),
        'stop',
        'set a known agent or delete the task'
    FROM tasks
    WHERE tasks.selected_agent NOT IN ('claude', 'codex', 'copilot', 'cursor', 'gemini', 'opencode')
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_max_duration_check',
        format('max_duration %s', coalesce(tasks.max_duration::text, 'null')),
        'normalise',
        'set to 300 (the app reads 0 and null as its default)'
    FROM tasks
    WHERE tasks.max_duration IS NULL
        OR tasks.max_duration <= 0
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_status_check',
        format('status %L', tasks.status),
        'stop',
        'set a known status or delete the task'
    FROM tasks
    WHERE tasks.status NOT IN ('pending', 'processing', 'completed', 'error', 'stopped')
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_progress_check',
        format('progress %s', coalesce(tasks.progress::text, 'null')),
        'normalise',
        'set to the nearest of 0..100 (null to 0)'
    FROM tasks
    WHERE tasks.progress IS NULL
        OR tasks.progress NOT BETWEEN 0 AND 100
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_install_dependencies_not_null_proof',
        'install_dependencies is null',
        'normalise',
        'set to false (the column default)'
    FROM tasks
    WHERE tasks.install_dependencies IS NULL
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_keep_alive_not_null_proof',
        'keep_alive is null',
        'normalise',
        'set to false (the column default)'
    FROM tasks
    WHERE tasks.keep_alive IS NULL
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        document.rule,
        format('%s is a JSON %s', document.column_name, jsonb_typeof(document.value)),
        CASE WHEN jsonb_typeof(document.value) = 'null' THEN 'normalise' ELSE 'stop' END,
        CASE
            WHEN jsonb_typeof(document.value) = 'null' THEN 'set to SQL null (no document)'
            ELSE 'set to a JSON array or null'
        END
    FROM tasks
    CROSS JOIN LATERAL (
        VALUES
            ('tasks_logs_check', 'logs', tasks.logs),
            ('tasks_mcp_server_ids_check', 'mcp_server_ids', tasks.mcp_server_ids),
            ('tasks_sub_agent_activity_check', 'sub_agent_activity', tasks.sub_agent_activity)
    ) AS document (rule, column_name, value)
    WHERE jsonb_typeof(document.value) <> 'array'
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_pr_number_check',
        format('pr_number %s', tasks.pr_number),
        'stop',
        'set the pull request''s number or null'
    FROM tasks
    WHERE tasks.pr_number <= 0
    UNION ALL
    SELECT
        'tasks',
        tasks.id,
        'tasks_pr_status_check',
        format('pr_status %L', tasks.pr_status),
        'stop',
        'set open, closed, merged or null'
    FROM tasks
    WHERE tasks.pr_status NOT IN ('open', 'closed', 'merged')
    UNION ALL
    SELECT
        'task_messages',
        task_messages.id,
        'task_messages_role_check',
        format('role %L', task_messages.role),
        'stop',
        'set user or agent, or delete the message'
    FROM task_messages
    WHERE task_messages.role NOT IN ('user', 'agent')
    UNION ALL
    SELECT
        'connectors',
        connectors.id,
        'connectors_name_check',
        'name is empty',
        'stop',
        'set a name or delete the connector'
    FROM connectors
    WHERE connectors.name = ''
    UNION ALL
    SELECT
        'connectors',
        connectors.id,
        'connectors_type_check',
        format('type %L', connectors.type),
        'stop',
        'set local or remote, or delete the connector'
    FROM connectors
    WHERE connectors.type NOT IN ('local', 'remote')
    UNION ALL
    SELECT
        'connectors',
        connectors.id,
        'connectors_status_check',
        format('status %L', connectors.status),
        'stop',
        'set connected or disconnected'
    FROM connectors
    WHERE connectors.status NOT IN ('connected', 'disconnected')
    UNION ALL
    SELECT
        'connectors',
        connectors.id,
        'connectors_type_target_check',
        CASE
            WHEN connectors.type = 'local' THEN 'local connector without a command'
            ELSE 'remote connector without a base_url'
        END,
        'stop',
        CASE
            WHEN connectors.type = 'local'
                THEN 'set its command (UPDATE connectors SET command = ...) or delete it'
            ELSE 'set its base_url (UPDATE connectors SET base_url = ...) or delete it'
        END
    FROM connectors
    WHERE connectors.type IN ('local', 'remote')
        AND (
            (connectors.type = 'local' AND connectors.command IS NULL)
            OR (connectors.type = 'remote' AND connectors.base_url IS NULL)
        )
    UNION ALL
    SELECT
        'settings',
        settings.id,
        'settings_key_check',
        'key is empty',
        'stop',
        'set a key or delete the setting'
    FROM settings
    WHERE settings.key = ''
    UNION ALL
    SELECT
        'settings',
        settings.id,
        'maxMessagesPerDay',
        format('value %L', left(settings.value, 40)),
        CASE WHEN parsed.digits IS NOT NULL THEN 'normalise' ELSE 'keep' END,
        CASE
            WHEN parsed.digits IS NOT NULL
                THEN format('set to %L, the number the app''s parseInt reads', parsed.digits)
            ELSE 'kept; not a whole number, so the default limit applies (as in the app)'
        END
    FROM settings
    CROSS JOIN LATERAL (
        SELECT ltrim(substring(settings.value FROM '^\s*\+?([0-9]+)'), '0') AS digits_raw
    ) AS raw
    CROSS JOIN LATERAL (
        SELECT
            CASE
                WHEN raw.digits_raw IS NULL OR length(raw.digits_raw) > 9 THEN NULL
                WHEN raw.digits_raw = '' THEN '0'
                ELSE raw.digits_raw
            END AS digits
    ) AS parsed
    WHERE settings.key = 'maxMessagesPerDay'
        AND settings.value !~ '^[0-9]{1,9}$'
    UNION ALL
    SELECT
        'api_tokens',
        api_tokens.id,
        'api_tokens_name_check',
        'name is empty',
        'stop',
        'set a name or delete the token'
    FROM api_tokens
    WHERE api_tokens.name = ''
    UNION ALL
    SELECT
        'api_tokens',
        api_tokens.id,
        'api_tokens_token_hash_check',
        'token_hash is not 64 lowercase hex digits',
        'stop',
        'delete the token (its raw value cannot be recovered)'
    FROM api_tokens
    WHERE api_tokens.token_hash !~ '^[0-9a-f]{64}$'
) AS refusal
ORDER BY
    refusal.table_name,
    refusal.rule,
    refusal.row_id;
