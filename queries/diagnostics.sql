-- Diagnostics: what the pool and the migration commands ask the server about
-- itself. Nothing here touches user data.

-- name: get_backend_pid()$
-- Unscoped (maintenance: diagnostics): the server process running this session; a pooler in front hands out a different id.
SELECT pg_backend_pid();

-- name: get_migration_lock()^
-- Unscoped (maintenance: migrations): yoyo's migration lock, if held: the holder's process id and since when.
SELECT
    pid,
    ctime AS since
FROM yoyo_lock
ORDER BY ctime
LIMIT 1;
