-- Scaling out by user_id (Citus, or PARTITION BY HASH (user_id)) needs every
-- primary and unique key of a user-owned table to contain user_id. This
-- builds, without blocking writes, the indexes that migration 0051 turns
-- into the primary keys (user_id, id) of the seven tables keyed by id alone,
-- the index of soft-deleted tasks led by user_id (the daily count probes it
-- by a message's user and task), and plain indexes that take over lookups by
-- sign-in identity and token hash for writers other than this package (the
-- TypeScript app while it shares the database, a DBA) once 0053 drops the
-- global unique constraints.
--
-- An invalid index that an interrupted run left behind is dropped first, so
-- that a rerun builds it again. The file runs outside a transaction: its
-- timeouts are set for the session and reset at the end (run migrations on a
-- direct connection, not through a transaction-mode pooler, where a session
-- setting may reach another client).
-- transactional: false
-- depends: 0042.notify-task-changes

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
                'tasks_user_id_id_pkey',
                'accounts_user_id_id_pkey',
                'keys_user_id_id_pkey',
                'task_messages_user_id_id_pkey',
                'connectors_user_id_id_pkey',
                'settings_user_id_id_pkey',
                'api_tokens_user_id_id_pkey',
                'tasks_user_id_deleted_idx',
                'users_provider_external_id_idx',
                'api_tokens_token_hash_idx'
            )
    LOOP
        EXECUTE format('DROP INDEX %I', leftover.index_name);
    END LOOP;
END;
$$;

-- tasks has a (user_id, id) index already, tasks_user_id_id_key, but the
-- foreign keys of task_messages and task_log_pages depend on it: 0051 moves
-- them to the primary key and drops it.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_id_id_pkey
    ON tasks (user_id, id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_user_id_id_pkey
    ON accounts (user_id, id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS keys_user_id_id_pkey
    ON keys (user_id, id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS task_messages_user_id_id_pkey
    ON task_messages (user_id, id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS connectors_user_id_id_pkey
    ON connectors (user_id, id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS settings_user_id_id_pkey
    ON settings (user_id, id);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS api_tokens_user_id_id_pkey
    ON api_tokens (user_id, id);

-- deleted_at as a key column: the purge's age condition is checked in the
-- index, without visiting the deleted tasks too young to purge.
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_user_id_deleted_idx
    ON tasks (user_id, id, deleted_at)
    WHERE deleted_at IS NOT NULL;

CREATE INDEX CONCURRENTLY IF NOT EXISTS users_provider_external_id_idx
    ON users (provider, external_id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS api_tokens_token_hash_idx
    ON api_tokens (token_hash);

RESET statement_timeout;
RESET lock_timeout;
