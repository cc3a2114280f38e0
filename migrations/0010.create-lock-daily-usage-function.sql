-- lock_daily_usage(user_id): lock the user's row, then read their daily_usage.
-- A limited insert calls it in its FROM clause and inserts only while `used`
-- is under the limit. Concurrent inserts of one user queue on the row lock,
-- which is held until the inserting statement's transaction ends; and because
-- each statement of a VOLATILE function takes a fresh snapshot (READ
-- COMMITTED), the count is taken after the lock and sees every insert that
-- committed before it. So the limit holds under concurrency in one statement,
-- without BEGIN/COMMIT round trips. (Under REPEATABLE READ the snapshot would
-- not move: call it at READ COMMITTED, PostgreSQL's default.) PL/pgSQL rather
-- than SQL: it keeps its statements' plans for the session, where a SQL
-- function would plan the daily_usage view again on every call.
-- depends: 0009.create-daily-usage-view

SET LOCAL lock_timeout = '5s';

CREATE FUNCTION lock_daily_usage(p_user_id text)
RETURNS TABLE (used bigint, max_messages_per_day integer, resets_at timestamptz)
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    PERFORM 1
    FROM users
    WHERE users.id = p_user_id
    FOR NO KEY UPDATE;

    RETURN QUERY
    SELECT
        daily_usage.used,
        daily_usage.max_messages_per_day,
        daily_usage.resets_at
    FROM daily_usage
    WHERE daily_usage.user_id = p_user_id;
END;
$$;

COMMENT ON FUNCTION lock_daily_usage(text) IS
    'Lock the user''s row, then return their daily_usage as seen after the lock.';
