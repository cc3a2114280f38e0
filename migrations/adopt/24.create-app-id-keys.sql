-- A shim while the TypeScript app shares the database: unique indexes on the
-- id alone of the tables whose rows the app addresses by id without their
-- user (its task logger's `UPDATE tasks ... WHERE id = $1`, a message's or
-- connector's update, an account or token by id). Migration 0051 makes the
-- primary keys (user_id, id), which a schema distributed by user can keep;
-- until the app is retired these keep its lookups fast and its writes on one
-- row: no two users' tasks share an id while something writes by id alone.
-- Built without blocking writes (until 0051 they duplicate the primary
-- keys); an invalid index left by an interrupted build is dropped first.
-- Removed with the other shims (checks/remove-shims.sql).
-- lock: SHARE UPDATE EXCLUSIVE on tasks, task_messages, connectors, accounts, api_tokens (writes continue)
-- scans: tasks, task_messages, connectors, accounts, api_tokens (index builds)
-- rewrites: none
-- transactional: false

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
                'tasks_id_key',
                'task_messages_id_key',
                'connectors_id_key',
                'accounts_id_key',
                'api_tokens_id_key'
            )
    LOOP
        -- Its own transaction (this file runs without one): a bounded wait.
        SET LOCAL lock_timeout = '5s';
        EXECUTE format('DROP INDEX %I', leftover.index_name);
    END LOOP;
END;
$$;
--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tasks_id_key ON tasks (id);
--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS task_messages_id_key ON task_messages (id);
--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS connectors_id_key ON connectors (id);
--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_id_key ON accounts (id);
--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS api_tokens_id_key ON api_tokens (id);
