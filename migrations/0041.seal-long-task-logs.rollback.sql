-- Undo 0041.seal-long-task-logs: nothing to undo. Sealed pages are a valid
-- shape of the log under 0040; rolling back 0040 puts them back in tasks.logs.
SET LOCAL lock_timeout = '5s';
