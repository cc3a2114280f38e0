-- Test-only SQL of the task lifecycle tests: raw reads of what is stored, and
-- the query plans of the hot-path statements.

-- name: get_raw_task_text(task_id)$
-- A whole task row as stored (deleted or not), as JSON text, to compare before and after.
SELECT to_jsonb(tasks)::text FROM tasks WHERE id = :task_id;

-- name: get_raw_task_messages_text(task_id)$
-- Every message of a task as stored, as JSON text, to compare before and after.
SELECT coalesce(jsonb_agg(to_jsonb(task_messages) ORDER BY id), '[]'::jsonb)::text
FROM task_messages
WHERE task_id = :task_id;

-- name: get_raw_connector_text(connector_id)$
-- A whole connector row as stored, as JSON text (secrets as stored, encrypted).
SELECT to_jsonb(connectors)::text FROM connectors WHERE id = :connector_id;

-- name: get_raw_connector_secrets(connector_id)^
-- The stored env and OAuth client secret columns of a connector.
SELECT env, oauth_client_secret FROM connectors WHERE id = :connector_id;

-- name: insert_bulk_settings(user_count)!
-- Give the bulk users of insert_bulk_tasks settings (a daily limit and another key), as real users have.
INSERT INTO settings (id, user_id, key, value)
SELECT 'bulk-' || n || '-' || setting.key, 'bulk-' || n, setting.key, setting.value
FROM generate_series(1, :user_count) AS n,
    (VALUES ('maxMessagesPerDay', '50'), ('theme', 'dark')) AS setting (key, value);

-- name: use_generic_plans()!
-- Plan prepared statements generically (as with parameters unknown) until the transaction ends.
SET LOCAL plan_cache_mode = force_generic_plan;

-- name: create_generic_plan_function#
-- Create pg_temp.generic_plan(statement, arguments): the EXPLAIN (FORMAT JSON) of EXECUTE of the statement prepared at SQL level, so that plan_cache_mode applies (a parameterised EXPLAIN is always planned with its values).
CREATE OR REPLACE FUNCTION pg_temp.generic_plan(statement text, arguments text[])
RETURNS json
LANGUAGE plpgsql
AS $function$
DECLARE
    plan json;
BEGIN
    IF EXISTS (SELECT FROM pg_prepared_statements WHERE name = 'cadb_plan_check') THEN
        DEALLOCATE cadb_plan_check;
    END IF;
    EXECUTE 'PREPARE cadb_plan_check AS ' || statement;
    BEGIN
        EXECUTE format(
            'EXPLAIN (FORMAT JSON) EXECUTE cadb_plan_check(%s)',
            (SELECT string_agg(quote_literal(argument), ', ') FROM unnest(arguments) AS argument)
        ) INTO plan;
    EXCEPTION WHEN OTHERS THEN
        DEALLOCATE cadb_plan_check;
        RAISE;
    END;
    DEALLOCATE cadb_plan_check;
    RETURN plan;
END
$function$;

-- name: explain_generic_plan(statement, arguments)$
-- The plan (JSON) of the statement under the session's plan_cache_mode; needs create_generic_plan_function.
SELECT pg_temp.generic_plan(:statement, :arguments);

-- name: insert_raw_limit_setting(id, user_id, value)!
-- Store a maxMessagesPerDay setting as the TypeScript app may have, bypassing set_setting's checks.
INSERT INTO settings (id, user_id, key, value)
VALUES (:id, :user_id, 'maxMessagesPerDay', :value);
