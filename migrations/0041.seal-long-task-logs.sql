-- Logs written before 0040 (by this package or the TypeScript app) are one
-- array in tasks.logs. Rewriting each one longer than a page to itself
-- fires 0040's trigger, which seals its full pages: afterwards every log has
-- the paged shape, and an append to a long old log costs what any other
-- does. Only tasks with such logs are updated (their rows are locked until
-- the migration commits); each log's entries, order and indexes are kept.
-- The scan reads every task's log once.
-- depends: 0040.create-task-log-pages

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30min';

UPDATE tasks
SET logs = logs
WHERE jsonb_array_length(logs) > task_log_page_size();
