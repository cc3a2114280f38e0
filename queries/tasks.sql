-- Tasks: coding tasks an agent runs. Soft-deleted tasks (deleted_at set) are
-- invisible to every query here but the purge.

-- name: create_task(user_id, id, prompt, title, repo_url, selected_agent, selected_model, install_dependencies, max_duration, keep_alive, enable_browser, mcp_server_ids, default_daily_limit)^
-- Create a pending task if the user's usage today is under their limit (their setting, else default_daily_limit), counted after locking the user; None otherwise.
INSERT INTO tasks (
    id,
    user_id,
    prompt,
    title,
    repo_url,
    selected_agent,
    selected_model,
    install_dependencies,
    max_duration,
    keep_alive,
    enable_browser,
    mcp_server_ids
)
SELECT
    :id,
    :user_id,
    :prompt,
    :title,
    :repo_url,
    :selected_agent,
    :selected_model,
    :install_dependencies,
    :max_duration,
    :keep_alive,
    :enable_browser,
    :mcp_server_ids
FROM lock_daily_usage(:user_id) AS usage
WHERE usage.used < COALESCE(usage.max_messages_per_day, :default_daily_limit)
RETURNING
    id,
    user_id,
    prompt,
    title,
    repo_url,
    selected_agent,
    selected_model,
    install_dependencies,
    max_duration,
    keep_alive,
    enable_browser,
    status,
    progress,
    error,
    branch_name,
    source_branch,
    sandbox_id,
    agent_session_id,
    sandbox_url,
    preview_url,
    pr_url,
    pr_number,
    pr_status,
    pr_merge_commit_sha,
    mcp_server_ids,
    sub_agent_activity,
    current_sub_agent,
    last_heartbeat,
    created_at,
    updated_at,
    completed_at,
    deleted_at,
    logs;

-- name: get_task(user_id, task_id)^
-- Get one of the user's tasks, log included.
SELECT
    id,
    user_id,
    prompt,
    title,
    repo_url,
    selected_agent,
    selected_model,
    install_dependencies,
    max_duration,
    keep_alive,
    enable_browser,
    status,
    progress,
    error,
    branch_name,
    source_branch,
    sandbox_id,
    agent_session_id,
    sandbox_url,
    preview_url,
    pr_url,
    pr_number,
    pr_status,
    pr_merge_commit_sha,
    mcp_server_ids,
    sub_agent_activity,
    current_sub_agent,
    last_heartbeat,
    created_at,
    updated_at,
    completed_at,
    deleted_at,
    logs
FROM tasks
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL;

-- name: list_tasks(user_id, before_created_at, before_id, limit)
-- List the user's tasks older than the (before_created_at, before_id) keyset position, newest first, without logs.
SELECT
    id,
    user_id,
    prompt,
    title,
    repo_url,
    selected_agent,
    selected_model,
    install_dependencies,
    max_duration,
    keep_alive,
    enable_browser,
    status,
    progress,
    error,
    branch_name,
    source_branch,
    sandbox_id,
    agent_session_id,
    sandbox_url,
    preview_url,
    pr_url,
    pr_number,
    pr_status,
    pr_merge_commit_sha,
    mcp_server_ids,
    sub_agent_activity,
    current_sub_agent,
    last_heartbeat,
    created_at,
    updated_at,
    completed_at,
    deleted_at
FROM tasks
WHERE user_id = :user_id
    AND deleted_at IS NULL
    AND (created_at, id) < (:before_created_at, :before_id)
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: get_task_status(user_id, task_id)$
-- Get the status of one of the user's tasks.
SELECT status
FROM tasks
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL;

-- name: append_task_logs(user_id, task_id, entries)$
-- Append log entries atomically, without reading the log; returns its new length, None if the task is not the user's.
UPDATE tasks
SET
    logs = COALESCE(logs, '[]'::jsonb) || :entries::jsonb,
    last_heartbeat = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING jsonb_array_length(logs);

-- name: get_task_logs(user_id, task_id, after)$
-- Get the log entries of one of the user's tasks from index `after` on.
SELECT
    jsonb_path_query_array(
        COALESCE(logs, '[]'::jsonb),
        '$[$after to last]',
        jsonb_build_object('after', :after::integer)
    ) AS entries
FROM tasks
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL;

-- name: update_task_status(user_id, task_id, status, progress, error)$
-- Move a task that is not finished to a status (a final one sets completed_at), keeping a null progress or error; returns its id, None if not the user's or finished.
UPDATE tasks
SET
    status = :status,
    progress = COALESCE(:progress, progress),
    error = COALESCE(:error, error),
    completed_at = CASE
        WHEN :status IN ('completed', 'error', 'stopped') THEN now()
    END,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
    AND status NOT IN ('completed', 'error', 'stopped')
RETURNING id;

-- name: update_task_title(user_id, task_id, title)$
-- Set a task's title; returns its id, None if the task is not the user's.
UPDATE tasks
SET
    title = :title,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: update_task_branch(user_id, task_id, branch_name, source_branch)$
-- Set a task's branch and the branch it started from (null keeps a value); returns its id, None if not the user's.
UPDATE tasks
SET
    branch_name = COALESCE(:branch_name, branch_name),
    source_branch = COALESCE(:source_branch, source_branch),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: update_task_sandbox(user_id, task_id, sandbox_id, sandbox_url, preview_url)$
-- Set a task's sandbox id and URLs (null keeps a value); returns its id, None if not the user's.
UPDATE tasks
SET
    sandbox_id = COALESCE(:sandbox_id, sandbox_id),
    sandbox_url = COALESCE(:sandbox_url, sandbox_url),
    preview_url = COALESCE(:preview_url, preview_url),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: update_task_agent_session(user_id, task_id, agent_session_id)$
-- Set the agent's session id of a task (to resume it); returns its id, None if not the user's.
UPDATE tasks
SET
    agent_session_id = :agent_session_id,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: update_task_pull_request(user_id, task_id, pr_url, pr_number, pr_status, pr_merge_commit_sha)$
-- Set a task's pull request fields (null keeps a value); returns its id, None if not the user's.
UPDATE tasks
SET
    pr_url = COALESCE(:pr_url, pr_url),
    pr_number = COALESCE(:pr_number, pr_number),
    pr_status = COALESCE(:pr_status, pr_status),
    pr_merge_commit_sha = COALESCE(:pr_merge_commit_sha, pr_merge_commit_sha),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: update_task_sub_agents(user_id, task_id, sub_agent_activity, current_sub_agent)$
-- Replace a task's sub-agent activity and current sub-agent; returns its id, None if not the user's.
UPDATE tasks
SET
    sub_agent_activity = :sub_agent_activity,
    current_sub_agent = :current_sub_agent,
    last_heartbeat = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: update_task_mcp_servers(user_id, task_id, mcp_server_ids)$
-- Set the connectors a task uses (checked to be the user's beforehand); returns its id, None if not the user's.
UPDATE tasks
SET
    mcp_server_ids = :mcp_server_ids,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: update_task_heartbeat(user_id, task_id)$
-- Record that a task's agent is alive; returns its id, None if not the user's.
UPDATE tasks
SET last_heartbeat = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: delete_task(user_id, task_id)$
-- Soft-delete a task: it leaves every listing and the daily count, and stays for audit; None if not the user's.
UPDATE tasks
SET
    deleted_at = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: purge_deleted_tasks(older_than)$
-- Unscoped (maintenance: retention): delete tasks soft-deleted longer ago than older_than, with their messages; returns the count.
WITH purged AS (
    DELETE FROM tasks
    WHERE deleted_at < now() - :older_than::interval
    RETURNING id
)

SELECT count(*)
FROM purged;
