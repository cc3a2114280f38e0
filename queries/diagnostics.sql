-- Diagnostics: what the pool asks the server about itself. Nothing here
-- touches user data.

-- name: get_backend_pid()$
-- Unscoped (maintenance: diagnostics): the server process running this session; a pooler in front hands out a different id.
SELECT pg_backend_pid();
