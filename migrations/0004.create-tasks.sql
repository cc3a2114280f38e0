-- Tasks: one coding task an agent runs in a sandbox, with its streamed log.
-- Soft-deleted rows (deleted_at set) stay for audit until purged; the partial
-- index over live rows serves both a user's newest-first listing and the count
-- of today's tasks for the daily limit; the one over deleted rows serves the
-- purge and the daily count's "is this message's task deleted" probe. (user_id, id) is unique so that
-- task_messages can reference a task together with its owner.
-- depends: 0001.create-users

SET LOCAL lock_timeout = '5s';

CREATE TABLE tasks (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prompt text NOT NULL,
    title text,
    repo_url text,
    selected_agent text NOT NULL DEFAULT 'claude',
    selected_model text,
    install_dependencies boolean NOT NULL DEFAULT false,
    max_duration integer NOT NULL DEFAULT 300,
    keep_alive boolean NOT NULL DEFAULT false,
    enable_browser boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'pending',
    progress integer NOT NULL DEFAULT 0,
    logs jsonb DEFAULT '[]'::jsonb,
    error text,
    branch_name text,
    source_branch text,
    sandbox_id text,
    agent_session_id text,
    sandbox_url text,
    preview_url text,
    pr_url text,
    pr_number integer,
    pr_status text,
    pr_merge_commit_sha text,
    mcp_server_ids jsonb,
    sub_agent_activity jsonb,
    current_sub_agent text,
    last_heartbeat timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    deleted_at timestamptz,
    CONSTRAINT tasks_prompt_check CHECK (prompt <> ''),
    CONSTRAINT tasks_selected_agent_check CHECK (
        selected_agent IN ('claude', 'codex', 'copilot', 'cursor', 'gemini', 'opencode')
    ),
    CONSTRAINT tasks_max_duration_check CHECK (max_duration > 0),
    CONSTRAINT tasks_status_check CHECK (
        status IN ('pending', 'processing', 'completed', 'error', 'stopped')
    ),
    CONSTRAINT tasks_progress_check CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT tasks_logs_check CHECK (jsonb_typeof(logs) = 'array'),
    CONSTRAINT tasks_pr_number_check CHECK (pr_number > 0),
    CONSTRAINT tasks_pr_status_check CHECK (pr_status IN ('open', 'closed', 'merged')),
    CONSTRAINT tasks_mcp_server_ids_check CHECK (jsonb_typeof(mcp_server_ids) = 'array'),
    CONSTRAINT tasks_sub_agent_activity_check CHECK (jsonb_typeof(sub_agent_activity) = 'array'),
    CONSTRAINT tasks_user_id_id_key UNIQUE (user_id, id)
);

CREATE INDEX tasks_user_id_created_at_idx
    ON tasks (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- Soft-deleted tasks only: the daily count probes it by id for every user
-- message it counts (is that message's task deleted?), and the purge reads
-- it whole, deleted_at included, without touching live rows.
CREATE INDEX tasks_deleted_idx
    ON tasks (id, deleted_at)
    WHERE deleted_at IS NOT NULL;

COMMENT ON TABLE tasks IS 'Coding tasks run by an agent in a sandbox.';
COMMENT ON COLUMN tasks.logs IS
    'JSON array of log entries {type, message, timestamp, agentSource?}, appended atomically.';
COMMENT ON COLUMN tasks.max_duration IS 'Sandbox time limit in minutes.';
COMMENT ON COLUMN tasks.mcp_server_ids IS 'JSON array of connectors(id) of the same user.';
COMMENT ON COLUMN tasks.sub_agent_activity IS
    'JSON array of sub-agent records {id, name, status, startedAt, completedAt?, description?}.';
COMMENT ON COLUMN tasks.last_heartbeat IS 'Last sign of life of the agent run.';
COMMENT ON COLUMN tasks.deleted_at IS 'Soft delete: set rows are hidden from every user-facing query.';
