-- Undo 0054.drop-tasks-deleted-idx: tasks_deleted_idx again. The rollbacks
-- that follow (0053, 0051) run in a transaction, where an index cannot be
-- built without blocking writes, so their indexes are built here: the unique
-- indexes of the constraints 0053's rollback restores on users and
-- api_tokens, and of the primary keys on id alone and tasks' (user_id, id)
-- key that 0051's rollback restores. Until those run they only duplicate
-- what the current keys guarantee; 0054 drops them. An invalid index left by
-- an interrupted run is dropped first.
-- transactional: false

SET lock_timeout = '5s';
SET statement_timeout = '1h';

DO $$
DECLARE
    leftover record;
BEGIN
    FOR leftover IN
        SELECT pg_class.relname AS index_name
        FROM pg_index
        INNER JOIN pg_class
            ON pg_class.oid = pg_index.indexrelid
        WHERE NOT pg_index.indisvalid
            AND pg_class.relname IN (
                'tasks_deleted_idx',
                'users_provider_external_id_key',
                'api_tokens_token_hash_key',
                'tasks_id_pkey',
                'tasks_user_id_id_key',
                'accounts_id_pkey',
                'keys_id_pkey',
                'task_messages_id_pkey',
                'connectors_id_pkey',
                'settings_id_pkey',
                'api_tokens_id_pkey'
            )
    LOOP
        EXECUTE format('DROP INDEX %I', leftover.index_name);
    END LOOP;
END;
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_deleted_idx
    ON tasks (id, deleted_at)
    WHERE deleted_at IS NOT NULL;

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_provider_external_id_key
    ON users (provider, external_id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS api_tokens_token_hash_key
    ON api_tokens (token_hash);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tasks_id_pkey ON tasks (id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_id_id_key ON tasks (user_id, id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_id_pkey ON accounts (id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS keys_id_pkey ON keys (id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS task_messages_id_pkey ON task_messages (id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS connectors_id_pkey ON connectors (id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS settings_id_pkey ON settings (id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS api_tokens_id_pkey ON api_tokens (id);

RESET statement_timeout;
RESET lock_timeout;
