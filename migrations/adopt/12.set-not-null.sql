-- The columns the package declares NOT NULL become so. The valid
-- `<column>_not_null_proof` checks of step 11 prove it, so PostgreSQL (12+) skips
-- the table scan; the temporary checks are then dropped. The app's own
-- foreign key task_messages.task_id -> tasks.id is replaced by the keys of
-- step 08 and dropped.
-- lock: ACCESS EXCLUSIVE on task_messages, tasks (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

-- Children first, as the app's writes lock them (see step 02).
LOCK TABLE task_messages, tasks IN ACCESS EXCLUSIVE MODE;

-- SET NOT NULL first, the checks dropped by a later statement: dropped in
-- the same ALTER TABLE, they would be gone before NOT NULL is verified, and
-- PostgreSQL would scan the table after all.
ALTER TABLE tasks
    ALTER COLUMN selected_agent SET NOT NULL,
    ALTER COLUMN install_dependencies SET NOT NULL,
    ALTER COLUMN max_duration SET NOT NULL,
    ALTER COLUMN keep_alive SET NOT NULL,
    ALTER COLUMN progress SET NOT NULL;

ALTER TABLE task_messages
    ALTER COLUMN user_id SET NOT NULL;

ALTER TABLE tasks
    DROP CONSTRAINT IF EXISTS tasks_selected_agent_not_null_proof,
    DROP CONSTRAINT IF EXISTS tasks_install_dependencies_not_null_proof,
    DROP CONSTRAINT IF EXISTS tasks_max_duration_not_null_proof,
    DROP CONSTRAINT IF EXISTS tasks_keep_alive_not_null_proof,
    DROP CONSTRAINT IF EXISTS tasks_progress_not_null_proof;

ALTER TABLE task_messages
    DROP CONSTRAINT IF EXISTS task_messages_user_id_not_null_proof,
    DROP CONSTRAINT IF EXISTS task_messages_task_id_tasks_id_fk;
