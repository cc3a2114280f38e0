-- Existing rows are judged against every constraint added NOT VALID (steps
-- 08 and 10). VALIDATE reads each table but lets reads and writes go on; a
-- row that fails stops adoption here, with nothing switched yet (rerun after
-- fixing it). Constraints already valid are skipped by PostgreSQL.
-- lock: SHARE UPDATE EXCLUSIVE on users, accounts, keys, tasks, task_messages, connectors, settings, api_tokens (reads and writes continue)
-- scans: users, accounts, keys, tasks, task_messages, connectors, settings, api_tokens
-- rewrites: none

SET LOCAL lock_timeout = '5s';

DO $$
DECLARE
    pending record;
BEGIN
    FOR pending IN
        SELECT
            pg_class.relname AS table_name,
            pg_constraint.conname AS constraint_name
        FROM pg_constraint
        INNER JOIN pg_class
            ON pg_class.oid = pg_constraint.conrelid
        INNER JOIN pg_namespace
            ON pg_namespace.oid = pg_class.relnamespace
        WHERE pg_namespace.nspname = 'public'
            AND NOT pg_constraint.convalidated
            AND pg_class.relname IN (
                'users',
                'accounts',
                'keys',
                'tasks',
                'task_messages',
                'connectors',
                'settings',
                'api_tokens'
            )
        ORDER BY pg_class.relname, pg_constraint.conname
    LOOP
        EXECUTE format(
            'ALTER TABLE %I VALIDATE CONSTRAINT %I',
            pending.table_name,
            pending.constraint_name
        );
    END LOOP;
END;
$$;
