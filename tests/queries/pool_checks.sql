-- Test-only SQL for the pool tests: session state that must not leak.

-- name: set_local_setting(name, value)$
-- Change a setting until the end of the current transaction (SET LOCAL).
SELECT set_config(:name, :value, true);

-- name: get_current_setting(name)$
-- The current value of a setting.
SELECT current_setting(:name);

-- name: insert_raw_setting(id, user_id, key)!
-- Insert a settings row directly.
INSERT INTO settings (id, user_id, key, value) VALUES (:id, :user_id, :key, 'x');

-- name: count_settings(user_id)$
-- How many settings the user has.
SELECT count(*) FROM settings WHERE user_id = :user_id;

-- name: count_prepared_statements()$
-- How many named prepared statements this session holds.
SELECT count(*) FROM pg_prepared_statements;

-- name: list_prepared_statement_names()
-- The names of the named prepared statements this session holds.
SELECT name
FROM pg_prepared_statements
ORDER BY name;
