-- Test-only SQL for push (coding_agent_db.follow).

-- name: terminate_backend(pid)$
-- Kill one server process, as a failover or an idle-connection reaper does.
SELECT pg_terminate_backend(:pid);
