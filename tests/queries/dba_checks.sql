-- Test-only SQL for the DBA tests: row locks, server activity, catalog comments.

-- name: lock_user_row(user_id)$
-- Lock a user's row until the end of the current transaction.
SELECT id FROM users WHERE id = :user_id FOR UPDATE;

-- name: list_lock_waits()
-- Statements of other sessions of this database waiting on a lock, as pg_stat_activity shows them.
SELECT query
FROM pg_stat_activity
WHERE datname = current_database()
    AND pid <> pg_backend_pid()
    AND wait_event_type = 'Lock';

-- name: list_column_comments()
-- Every column of the public tables and views with its comment (NULL when it has none); partitions are their table's.
SELECT
    class.relname AS table_name,
    attribute.attname AS column_name,
    col_description(class.oid, attribute.attnum) AS comment
FROM pg_class AS class
INNER JOIN pg_namespace AS namespace ON namespace.oid = class.relnamespace
INNER JOIN pg_attribute AS attribute ON attribute.attrelid = class.oid
WHERE namespace.nspname = 'public'
    AND class.relkind IN ('r', 'v', 'p')
    AND NOT class.relispartition
    AND attribute.attnum > 0
    AND NOT attribute.attisdropped
    AND class.relname NOT LIKE '\_yoyo%'
    AND class.relname NOT LIKE 'yoyo%'
ORDER BY class.relname, attribute.attnum;

-- name: list_table_comments()
-- Every public table and view with its comment (NULL when it has none); partitions are their table's.
SELECT
    class.relname AS table_name,
    obj_description(class.oid, 'pg_class') AS comment
FROM pg_class AS class
INNER JOIN pg_namespace AS namespace ON namespace.oid = class.relnamespace
WHERE namespace.nspname = 'public'
    AND class.relkind IN ('r', 'v', 'p')
    AND NOT class.relispartition
    AND class.relname NOT LIKE '\_yoyo%'
    AND class.relname NOT LIKE 'yoyo%'
ORDER BY class.relname;

-- name: list_prepared_statements()
-- The statements this session holds prepared.
SELECT statement
FROM pg_prepared_statements
ORDER BY prepare_time;

-- name: list_jsonb_columns()
-- Every jsonb column of the public tables (partitions are their table's).
SELECT
    columns.table_name,
    columns.column_name
FROM information_schema.columns AS columns
INNER JOIN pg_class ON pg_class.relname = columns.table_name
INNER JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
WHERE columns.table_schema = 'public'
    AND pg_namespace.nspname = 'public'
    AND columns.data_type = 'jsonb'
    AND NOT pg_class.relispartition
ORDER BY columns.table_name, columns.ordinal_position;

-- name: get_column_comment(table_name, column_name)$
-- The comment of one column of a public table, NULL if none.
SELECT col_description(attribute.attrelid, attribute.attnum)
FROM pg_attribute AS attribute
WHERE attribute.attrelid = ('public.' || quote_ident(:table_name))::regclass
    AND attribute.attname = :column_name;
