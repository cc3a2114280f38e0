-- Keys under the names the package's migrations give them: drizzle's unique
-- indexes become UNIQUE constraints over the same index (renamed, not
-- rebuilt), and drizzle's `<table>_user_id_users_id_fk` foreign keys and
-- `api_tokens_token_hash_unique` take PostgreSQL's default names that
-- 0001-0008 use. Names already right (a rerun) are left alone.
-- lock: ACCESS EXCLUSIVE on tasks, accounts, keys, connectors, settings, api_tokens, users (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

-- Tables are locked children first, parents last: the order in which the
-- app's own writes lock them (a message insert locks task_messages, then
-- checks its task), so the two never wait for each other in a cycle.
LOCK TABLE tasks, accounts, keys, connectors, settings, api_tokens, users
    IN ACCESS EXCLUSIVE MODE;

DO $$
DECLARE
    wanted record;
BEGIN
    FOR wanted IN
        SELECT
            attach.table_name,
            attach.index_name,
            attach.constraint_name
        FROM (
            VALUES
                ('users', 'users_provider_external_id_idx', 'users_provider_external_id_key'),
                ('accounts', 'accounts_user_id_provider_idx', 'accounts_user_id_provider_key'),
                ('keys', 'keys_user_id_provider_idx', 'keys_user_id_provider_key'),
                ('settings', 'settings_user_id_key_idx', 'settings_user_id_key_key')
        ) AS attach (table_name, index_name, constraint_name)
        WHERE to_regclass(format('public.%I', attach.index_name)) IS NOT NULL
    LOOP
        EXECUTE format(
            'ALTER TABLE %I ADD CONSTRAINT %I UNIQUE USING INDEX %I',
            wanted.table_name,
            wanted.constraint_name,
            wanted.index_name
        );
    END LOOP;

    FOR wanted IN
        SELECT
            renames.table_name,
            renames.old_name,
            renames.new_name
        FROM (
            VALUES
                ('accounts', 'accounts_user_id_users_id_fk', 'accounts_user_id_fkey'),
                ('keys', 'keys_user_id_users_id_fk', 'keys_user_id_fkey'),
                ('tasks', 'tasks_user_id_users_id_fk', 'tasks_user_id_fkey'),
                ('connectors', 'connectors_user_id_users_id_fk', 'connectors_user_id_fkey'),
                ('settings', 'settings_user_id_users_id_fk', 'settings_user_id_fkey'),
                ('api_tokens', 'api_tokens_user_id_users_id_fk', 'api_tokens_user_id_fkey'),
                ('api_tokens', 'api_tokens_token_hash_unique', 'api_tokens_token_hash_key')
        ) AS renames (table_name, old_name, new_name)
        WHERE EXISTS (
            SELECT 1
            FROM pg_constraint
            WHERE pg_constraint.conrelid = to_regclass(format('public.%I', renames.table_name))
                AND pg_constraint.conname = renames.old_name
        )
    LOOP
        EXECUTE format(
            'ALTER TABLE %I RENAME CONSTRAINT %I TO %I',
            wanted.table_name,
            wanted.old_name,
            wanted.new_name
        );
    END LOOP;
END;
$$;
