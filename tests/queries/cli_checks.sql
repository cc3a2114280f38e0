-- Test-only SQL for the operator command tests.

-- name: insert_migration_lock(age, pid)!
-- Leave a migration lock as a migration killed age ago would (yoyo's ctime is naive UTC).
INSERT INTO yoyo_lock (
    locked,
    ctime,
    pid
)
VALUES (
    1,
    (now() - :age::interval) AT TIME ZONE 'UTC',
    :pid
);
