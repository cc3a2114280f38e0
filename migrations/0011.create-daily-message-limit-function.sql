-- A user's daily limit follows who they are, like in the TypeScript
-- app: a user whose email is in an admin domain gets the admin limit, else
-- their maxMessagesPerDay setting applies, else the default. One definition,
-- used by the rate-limit check and by every limited insert in queries/, so
-- they cannot disagree. It is called once per statement (one user).
-- Domains come in normalised by the caller: lowercase, each starting with '@'.
-- depends: 0010.create-lock-daily-usage-function

SET LOCAL lock_timeout = '5s';

CREATE FUNCTION daily_message_limit(
    p_email text,
    p_setting integer,
    p_default_limit integer,
    p_admin_domains text[],
    p_admin_limit integer
)
RETURNS integer
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT CASE
        WHEN EXISTS (
            SELECT 1
            FROM unnest(p_admin_domains) AS domain
            WHERE domain <> ''
                AND right(lower(btrim(p_email)), length(domain)) = domain
        ) THEN p_admin_limit
        ELSE COALESCE(p_setting, p_default_limit)
    END
$$;

COMMENT ON FUNCTION daily_message_limit(text, integer, integer, text[], integer) IS
    'A user''s daily limit: the admin limit for an admin email domain, else their setting, else the default.';
