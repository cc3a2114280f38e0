-- What the database holds, before adoption decides anything: which of the
-- tables the TypeScript app's drizzle migrations create are present (all of
-- them from drizzle 0021, the one that adds api_tokens), whether drizzle's
-- journal is there, and how many of the app's migrations it records.
SELECT
    ARRAY(
        SELECT expected.name
        FROM unnest(ARRAY[
            'users',
            'accounts',
            'keys',
            'tasks',
            'task_messages',
            'connectors',
            'settings',
            'api_tokens'
        ]) AS expected (name)
        WHERE to_regclass(format('public.%I', expected.name)) IS NULL
        ORDER BY expected.name
    ) AS missing_tables,
    to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS has_drizzle_journal,
    to_regclass('public._yoyo_migration') IS NOT NULL AS has_yoyo_journal,
    (
        SELECT count(*)
        FROM information_schema.columns
        WHERE columns.table_schema = 'public'
            AND columns.data_type = 'timestamp without time zone'
    ) AS naive_timestamp_columns;
