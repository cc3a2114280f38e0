-- What the database holds, before adoption decides anything: which of the
-- tables the TypeScript app's drizzle migrations create are present (all of
-- them from drizzle 0021, the one that adds api_tokens), whether drizzle's
-- journal is there (drizzle-journal.sql counts it), and which schema version
-- the columns show.
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
    -- The app's schema version, from the columns its latest migrations add:
    -- 0024 tasks.source_branch, 0022 api_tokens.updated_at, 0021 api_tokens.
    CASE
        WHEN EXISTS (
            SELECT 1
            FROM information_schema.columns
            WHERE columns.table_schema = 'public'
                AND columns.table_name = 'tasks'
                AND columns.column_name = 'source_branch'
        ) THEN '0024'
        WHEN EXISTS (
            SELECT 1
            FROM information_schema.columns
            WHERE columns.table_schema = 'public'
                AND columns.table_name = 'api_tokens'
                AND columns.column_name = 'updated_at'
        ) THEN '0022'
        WHEN to_regclass('public.api_tokens') IS NOT NULL THEN '0021'
    END AS schema_version,
    to_regclass('public._yoyo_migration') IS NOT NULL AS has_yoyo_journal,
    (
        SELECT count(*)
        FROM information_schema.columns
        WHERE columns.table_schema = 'public'
            AND columns.data_type = 'timestamp without time zone'
    ) AS naive_timestamp_columns;
