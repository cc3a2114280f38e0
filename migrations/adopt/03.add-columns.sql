-- Columns the package has and the app's schema lacks: tasks.enable_browser
-- (never in the app), the columns of drizzle 0022-0024 for databases made
-- before them, and task_messages.user_id (nullable until it is backfilled);
-- plus the package's default for tasks.logs. A constant or now() default is
-- stored in the catalog (PostgreSQL 11+): no table is rewritten.
-- lock: ACCESS EXCLUSIVE on task_messages, tasks, api_tokens (catalog only)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

-- Children first, as the app's writes lock them (see step 02).
LOCK TABLE task_messages, tasks, api_tokens IN ACCESS EXCLUSIVE MODE;

ALTER TABLE tasks
    ADD COLUMN IF NOT EXISTS enable_browser boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS source_branch text,
    ADD COLUMN IF NOT EXISTS sub_agent_activity jsonb,
    ADD COLUMN IF NOT EXISTS current_sub_agent text,
    ADD COLUMN IF NOT EXISTS last_heartbeat timestamptz,
    ALTER COLUMN logs SET DEFAULT '[]'::jsonb;

ALTER TABLE api_tokens
    ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE task_messages
    ADD COLUMN IF NOT EXISTS user_id text;
