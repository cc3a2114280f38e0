-- The package's CHECK constraints (0001-0008, same names and expressions),
-- plus temporary `<column>_not_null_proof` checks for the columns that become NOT
-- NULL in step 12 (not `<column>_not_null`: PostgreSQL 18 gives that name to
-- the NOT NULL constraint itself). All are added NOT VALID: new and updated rows are checked
-- from now on, existing rows are judged by step 11 without blocking writes.
-- lock: ACCESS EXCLUSIVE on task_messages, tasks, accounts, keys, connectors, settings, api_tokens, users (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

-- Tables are locked children first, parents last: the order in which the
-- app's own writes lock them (a message insert locks task_messages, then
-- checks its task), so the two never wait for each other in a cycle.
LOCK TABLE task_messages, tasks, accounts, keys, connectors, settings, api_tokens, users
    IN ACCESS EXCLUSIVE MODE;

DO $$
DECLARE
    wanted record;
BEGIN
    FOR wanted IN
        SELECT
            constraints.table_name,
            constraints.constraint_name,
            constraints.definition
        FROM (
            VALUES
                ('users', 'users_provider_check', 'CHECK (provider IN (''github'', ''vercel''))'),
                ('users', 'users_external_id_check', 'CHECK (external_id <> '''')'),
                ('users', 'users_username_check', 'CHECK (username <> '''')'),
                ('accounts', 'accounts_provider_check', 'CHECK (provider IN (''github''))'),
                ('accounts', 'accounts_external_user_id_check', 'CHECK (external_user_id <> '''')'),
                ('accounts', 'accounts_username_check', 'CHECK (username <> '''')'),
                (
                    'keys',
                    'keys_provider_check',
                    'CHECK (provider IN (''anthropic'', ''openai'', ''cursor'', ''gemini'', ''aigateway'', ''github''))'
                ),
                ('tasks', 'tasks_prompt_check', 'CHECK (prompt <> '''')'),
                (
                    'tasks',
                    'tasks_selected_agent_check',
                    'CHECK (selected_agent IN (''claude'', ''codex'', ''copilot'', ''cursor'', ''gemini'', ''opencode''))'
                ),
                ('tasks', 'tasks_max_duration_check', 'CHECK (max_duration > 0)'),
                (
                    'tasks',
                    'tasks_status_check',
                    'CHECK (status IN (''pending'', ''processing'', ''completed'', ''error'', ''stopped''))'
                ),
                ('tasks', 'tasks_progress_check', 'CHECK (progress BETWEEN 0 AND 100)'),
                ('tasks', 'tasks_logs_check', 'CHECK (jsonb_typeof(logs) = ''array'')'),
                ('tasks', 'tasks_pr_number_check', 'CHECK (pr_number > 0)'),
                ('tasks', 'tasks_pr_status_check', 'CHECK (pr_status IN (''open'', ''closed'', ''merged''))'),
                (
                    'tasks',
                    'tasks_mcp_server_ids_check',
                    'CHECK (jsonb_typeof(mcp_server_ids) = ''array'')'
                ),
                (
                    'tasks',
                    'tasks_sub_agent_activity_check',
                    'CHECK (jsonb_typeof(sub_agent_activity) = ''array'')'
                ),
                ('tasks', 'tasks_selected_agent_not_null_proof', 'CHECK (selected_agent IS NOT NULL)'),
                (
                    'tasks',
                    'tasks_install_dependencies_not_null_proof',
                    'CHECK (install_dependencies IS NOT NULL)'
                ),
                ('tasks', 'tasks_max_duration_not_null_proof', 'CHECK (max_duration IS NOT NULL)'),
                ('tasks', 'tasks_keep_alive_not_null_proof', 'CHECK (keep_alive IS NOT NULL)'),
                ('tasks', 'tasks_progress_not_null_proof', 'CHECK (progress IS NOT NULL)'),
                ('task_messages', 'task_messages_role_check', 'CHECK (role IN (''user'', ''agent''))'),
                ('task_messages', 'task_messages_user_id_not_null_proof', 'CHECK (user_id IS NOT NULL)'),
                ('connectors', 'connectors_name_check', 'CHECK (name <> '''')'),
                ('connectors', 'connectors_type_check', 'CHECK (type IN (''local'', ''remote''))'),
                (
                    'connectors',
                    'connectors_status_check',
                    'CHECK (status IN (''connected'', ''disconnected''))'
                ),
                (
                    'connectors',
                    'connectors_type_target_check',
                    'CHECK ((type = ''local'' AND command IS NOT NULL) OR (type = ''remote'' AND base_url IS NOT NULL))'
                ),
                ('settings', 'settings_key_check', 'CHECK (key <> '''')'),
                ('api_tokens', 'api_tokens_name_check', 'CHECK (name <> '''')'),
                (
                    'api_tokens',
                    'api_tokens_token_hash_check',
                    'CHECK (token_hash ~ ''^[0-9a-f]{64}$'')'
                )
        ) AS constraints (table_name, constraint_name, definition)
        WHERE NOT EXISTS (
            SELECT 1
            FROM pg_constraint
            WHERE pg_constraint.conrelid = to_regclass(format('public.%I', constraints.table_name))
                AND pg_constraint.conname = constraints.constraint_name
        )
        -- A column already NOT NULL (a rerun after step 12) needs no temporary check.
        AND NOT EXISTS (
            SELECT 1
            FROM information_schema.columns
            WHERE constraints.constraint_name LIKE '%\_not\_null\_proof'
                AND columns.table_schema = 'public'
                AND columns.table_name = constraints.table_name
                AND constraints.constraint_name
                    = columns.table_name || '_' || columns.column_name || '_not_null_proof'
                AND columns.is_nullable = 'NO'
        )
    LOOP
        EXECUTE format(
            'ALTER TABLE %I ADD CONSTRAINT %I %s NOT VALID',
            wanted.table_name,
            wanted.constraint_name,
            wanted.definition
        );
    END LOOP;
END;
$$;
