-- The reference workload (shared/WORKLOAD.md) as a hand-written asyncpg
-- program would send it: positional $n parameters, no data layer.

-- name: raw_rate_check()$
-- Today's (UTC) non-deleted tasks of the user + today's user messages on them.
SELECT
    (
        SELECT count(*)
        FROM tasks
        WHERE user_id = $1
            AND deleted_at IS NULL
            AND created_at >= date_trunc('day', now(), 'UTC')
    ) + (
        SELECT count(*)
        FROM task_messages
        INNER JOIN tasks ON tasks.id = task_messages.task_id
        WHERE task_messages.user_id = $1
            AND task_messages.role = 'user'
            AND task_messages.created_at >= date_trunc('day', now(), 'UTC')
            AND tasks.deleted_at IS NULL
    );

-- name: raw_create_task()!
-- Create a pending task.
INSERT INTO tasks (id, user_id, prompt, status, selected_agent)
VALUES ($1, $2, $3, 'pending', $4);

-- name: raw_fetch_keys()
-- The user's keys.
SELECT provider, value FROM keys WHERE user_id = $1;

-- name: raw_start_task()!
-- Mark the task processing.
UPDATE tasks SET status = 'processing' WHERE id = $1 AND user_id = $2;

-- name: raw_append_log()$
-- Append one log entry atomically.
UPDATE tasks
SET logs = COALESCE(logs, '[]'::jsonb) || $3::jsonb, updated_at = now()
WHERE id = $1 AND user_id = $2
RETURNING jsonb_array_length(logs);

-- name: raw_insert_message()!
-- Insert a message.
INSERT INTO task_messages (id, task_id, user_id, role, content) VALUES ($1, $2, $3, $4, $5);

-- name: raw_stream_delta()!
-- Append a streamed chunk to a message.
UPDATE task_messages SET content = content || $3 WHERE id = $1 AND user_id = $2;

-- name: raw_poll_task()^
-- The whole task row.
SELECT
    id, user_id, prompt, title, repo_url, selected_agent, selected_model,
    install_dependencies, max_duration, keep_alive, enable_browser, status, progress,
    logs, error, branch_name, source_branch, sandbox_id, agent_session_id, sandbox_url,
    preview_url, pr_url, pr_number, pr_status, pr_merge_commit_sha, mcp_server_ids,
    sub_agent_activity, current_sub_agent, last_heartbeat, created_at, updated_at,
    completed_at, deleted_at
FROM tasks
WHERE id = $1 AND user_id = $2;

-- name: raw_list_tasks()
-- The user's 20 newest non-deleted tasks, without logs.
SELECT
    id, user_id, prompt, title, repo_url, selected_agent, selected_model,
    install_dependencies, max_duration, keep_alive, enable_browser, status, progress,
    error, branch_name, source_branch, sandbox_id, agent_session_id, sandbox_url,
    preview_url, pr_url, pr_number, pr_status, pr_merge_commit_sha, mcp_server_ids,
    sub_agent_activity, current_sub_agent, last_heartbeat, created_at, updated_at,
    completed_at, deleted_at
FROM tasks
WHERE user_id = $1 AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC
LIMIT 20;

-- name: raw_finish_task()!
-- Mark the task completed.
UPDATE tasks
SET status = 'completed', progress = 100, completed_at = now()
WHERE id = $1 AND user_id = $2;
