-- Diagnostics: what the pool asks the server about itself. Nothing here
-- touches user data.

-- name: get_backend_pid()$
-- Unscoped (maintenance: diagnostics): the server process running this session; a pooler in front hands out a different id.
SELECT pg_backend_pid();

-- name: get_notification_queue_usage()$
-- Unscoped (maintenance: doctor): the fraction (0 to 1) of the server's NOTIFY queue in use; it fills when a listening session sits in a transaction.
SELECT pg_notification_queue_usage();
