-- The unique index of step 05 becomes the constraint tasks_user_id_id_key,
-- as 0004 names it, without being built again.
-- lock: ACCESS EXCLUSIVE on tasks (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1
        FROM pg_constraint
        WHERE pg_constraint.conrelid = 'tasks'::regclass
            AND pg_constraint.conname = 'tasks_user_id_id_key'
    ) THEN
        ALTER TABLE tasks
            ADD CONSTRAINT tasks_user_id_id_key UNIQUE USING INDEX tasks_user_id_id_key;
    END IF;
END;
$$;
