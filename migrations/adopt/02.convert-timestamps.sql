-- The app's 22 `timestamp` columns hold UTC wall-clock times (drizzle
-- writes Date values as toISOString()); the package's are `timestamptz`. Converted
-- with the session time zone set to UTC, the cast is exactly
-- `col AT TIME ZONE 'UTC'` and PostgreSQL (12+) changes only the catalog:
-- no table is rewritten and no row is read. Columns already converted (a
-- rerun) are left alone.
-- lock: ACCESS EXCLUSIVE on task_messages, tasks, accounts, keys, connectors, settings, api_tokens, users (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';
SET LOCAL TimeZone = 'UTC';

-- Tables are locked children first, parents last: the order in which the
-- app's own writes lock them (a message insert locks task_messages, then
-- checks its task), so the two never wait for each other in a cycle.
LOCK TABLE task_messages, tasks, accounts, keys, connectors, settings, api_tokens, users
    IN ACCESS EXCLUSIVE MODE;

DO $$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT
            columns.table_name,
            string_agg(
                format('ALTER COLUMN %I TYPE timestamptz', columns.column_name),
                ', '
                ORDER BY columns.ordinal_position
            ) AS changes
        FROM information_schema.columns
        WHERE columns.table_schema = 'public'
            AND columns.table_name IN (
                'users',
                'accounts',
                'keys',
                'tasks',
                'task_messages',
                'connectors',
                'settings',
                'api_tokens'
            )
            AND columns.data_type = 'timestamp without time zone'
        GROUP BY columns.table_name
        ORDER BY columns.table_name
    LOOP
        EXECUTE format('ALTER TABLE %I %s', target.table_name, target.changes);
    END LOOP;
END;
$$;
