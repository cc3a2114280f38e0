-- Tasks: coding tasks an agent runs. Soft-deleted tasks (deleted_at set) are
-- invisible to every query here but the purge.

-- name: create_task(user_id, id, prompt, title, repo_url, selected_agent, selected_model, install_dependencies, max_duration, keep_alive, enable_browser, mcp_server_ids, default_daily_limit, admin_email_domains, admin_daily_limit)^
-- Create a pending task and its prompt as its first user message (id = task id, not counted again) if the user's usage today is under their limit, counted after locking the user; None otherwise.
WITH created AS (
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
    CROSS JOIN users
    WHERE users.id = :user_id
        AND usage.used < daily_message_limit(
            users.email,
            usage.max_messages_per_day,
            :default_daily_limit,
            :admin_email_domains::text[],
            :admin_daily_limit
        )
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
        logs
),

prompt_message AS (
    INSERT INTO task_messages (
        id,
        task_id,
        user_id,
        role,
        content,
        created_at
    )
    SELECT
        created.id,
        created.id,
        created.user_id,
        'user',
        created.prompt,
        clock_timestamp()
    FROM created
)

SELECT
    created.id,
    created.user_id,
    created.prompt,
    created.title,
    created.repo_url,
    created.selected_agent,
    created.selected_model,
    created.install_dependencies,
    created.max_duration,
    created.keep_alive,
    created.enable_browser,
    created.status,
    created.progress,
    created.error,
    created.branch_name,
    created.source_branch,
    created.sandbox_id,
    created.agent_session_id,
    created.sandbox_url,
    created.preview_url,
    created.pr_url,
    created.pr_number,
    created.pr_status,
    created.pr_merge_commit_sha,
    created.mcp_server_ids,
    created.sub_agent_activity,
    created.current_sub_agent,
    created.last_heartbeat,
    created.created_at,
    created.updated_at,
    created.completed_at,
    created.deleted_at,
    created.logs
FROM created;

-- name: get_task(user_id, task_id, logs_after)^
-- Get one of the user's tasks, its log from entry logs_after on (0: the whole log) as pages (see task_log_since); logs null if the column is.
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
    CASE
        WHEN logs IS NOT NULL THEN task_log_since(user_id, id, logs_offset, logs, :logs_after)
    END AS logs  -- noqa: RF04
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
-- Append log entries atomically to the open page, without reading the log (a full page is sealed by the tasks_seal_log_pages trigger); returns the log's new length, None if the task is not the user's.
UPDATE tasks
SET
    logs = COALESCE(logs, '[]'::jsonb) || :entries::jsonb,
    last_heartbeat = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING logs_offset + jsonb_array_length(logs);

-- name: get_task_logs(user_id, task_id, after)$
-- Get the log entries of one of the user's tasks from index `after` on, as pages (see task_log_since: only the pages holding such entries are read).
SELECT task_log_since(user_id, id, logs_offset, logs, :after) AS entries
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

-- name: update_task_progress(user_id, task_id, progress, entries)$
-- Set a task's progress and append its log entries in one statement, whatever the status (a finished task may report 100); returns the log's new length, None if not the user's.
UPDATE tasks
SET
    progress = :progress,
    logs = COALESCE(logs, '[]'::jsonb) || :entries::jsonb,
    last_heartbeat = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING logs_offset + jsonb_array_length(logs);

-- name: continue_task(user_id, task_id, message_id, content, default_daily_limit, admin_email_domains, admin_daily_limit)^
-- Move a finished task that has a branch back to processing (progress 0, completed_at null) and add the follow-up user message, if the user's usage today is under their limit; None otherwise.
WITH continued AS (
    UPDATE tasks
    SET
        status = 'processing',
        progress = 0,
        completed_at = NULL,
        updated_at = now()
    FROM lock_daily_usage(:user_id) AS usage
    INNER JOIN users
        ON users.id = :user_id
    WHERE tasks.user_id = :user_id
        AND tasks.id = :task_id
        AND tasks.deleted_at IS NULL
        AND tasks.status IN ('completed', 'error', 'stopped')
        AND tasks.branch_name IS NOT NULL
        AND usage.used < daily_message_limit(
            users.email,
            usage.max_messages_per_day,
            :default_daily_limit,
            :admin_email_domains::text[],
            :admin_daily_limit
        )
    RETURNING
        tasks.id,
        tasks.user_id
)

INSERT INTO task_messages (
    id,
    task_id,
    user_id,
    role,
    content,
    created_at
)
SELECT
    :message_id,
    continued.id,
    continued.user_id,
    'user',
    :content,
    clock_timestamp()
FROM continued
RETURNING
    id,
    task_id,
    user_id,
    role,
    content,
    created_at;

-- name: clear_task_logs(user_id, task_id)$
-- Empty a task's log; returns its id, None if the task is not the user's.
UPDATE tasks
SET
    logs = '[]'::jsonb,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING id;

-- name: append_task_sub_agent(user_id, task_id, activity, entries)$
-- Add a sub-agent to a task's activity, make it the current one and log it, in one statement; returns the log's new length, None if not the user's.
UPDATE tasks
SET
    sub_agent_activity = COALESCE(sub_agent_activity, '[]'::jsonb) || :activity::jsonb,
    current_sub_agent = :activity::jsonb -> 0 ->> 'name',
    logs = COALESCE(logs, '[]'::jsonb) || :entries::jsonb,
    last_heartbeat = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
RETURNING logs_offset + jsonb_array_length(logs);

-- name: update_task_sub_agent(user_id, task_id, sub_agent_id, changes)$
-- Merge changes into one sub-agent element of a task, found by its id (a jsonb path update under the row lock); returns the task id, None if not the user's or no such sub-agent.
UPDATE tasks
SET
    sub_agent_activity = jsonb_patch_element(sub_agent_activity, :sub_agent_id, :changes::jsonb),
    last_heartbeat = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
    AND sub_agent_activity @> jsonb_build_array(jsonb_build_object('id', :sub_agent_id::text))
RETURNING id;

-- name: complete_task_sub_agent(user_id, task_id, sub_agent_id, status, completed_at, parent_agent)$
-- Finish one sub-agent of a task (status, completedAt), make another starting or running one current (else none) and log it, in one statement; returns the log's new length, None if not the user's or no such sub-agent.
UPDATE tasks
SET
    sub_agent_activity = jsonb_patch_element(
        sub_agent_activity,
        :sub_agent_id,
        jsonb_build_object('status', :status::text, 'completedAt', :completed_at::text)
    ),
    current_sub_agent = (
        SELECT element.value ->> 'name'
        FROM jsonb_array_elements(tasks.sub_agent_activity) WITH ORDINALITY
                AS element (value, position)
        WHERE element.value ->> 'id' <> :sub_agent_id
            AND element.value ->> 'status' IN ('starting', 'running')
        ORDER BY element.position
        LIMIT 1
    ),
    logs = COALESCE(logs, '[]'::jsonb) || (
        SELECT
            jsonb_build_array(
                jsonb_build_object(
                    'type', 'subagent',
                    'message', CASE
                        WHEN :status = 'completed' THEN 'Sub-agent completed: '
                        ELSE 'Sub-agent failed: '
                    END || (element.value ->> 'name'),
                    'timestamp', :completed_at::text,
                    'agentSource', jsonb_build_object(
                        'name', element.value ->> 'name',
                        'isSubAgent', TRUE,
                        'parentAgent', :parent_agent::text,
                        'subAgentId', :sub_agent_id::text
                    )
                )
            )
        FROM jsonb_array_elements(tasks.sub_agent_activity) AS element (value)
        WHERE element.value ->> 'id' = :sub_agent_id
        -- Sub-agent ids are unique within a task: one element matches.
        LIMIT 1  -- noqa: AM09
    ),
    last_heartbeat = now(),
    updated_at = now()
WHERE user_id = :user_id
    AND id = :task_id
    AND deleted_at IS NULL
    AND sub_agent_activity @> jsonb_build_array(jsonb_build_object('id', :sub_agent_id::text))
RETURNING logs_offset + jsonb_array_length(logs);

-- name: update_task_title(user_id, task_id, title)$
-- Set a task's title (null keeps it); returns its id, None if the task is not the user's.
UPDATE tasks
SET
    title = COALESCE(:title, title),
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
-- Set the agent's session id of a task (to resume it; null keeps it); returns its id, None if not the user's.
UPDATE tasks
SET
    agent_session_id = COALESCE(:agent_session_id, agent_session_id),
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

-- name: move_tasks(user_id, new_user_id)$
-- Hand all the user's tasks (soft-deleted ones too) and their messages over to new_user_id in one statement, so the (user_id, task_id) foreign key holds; returns the count of tasks.
WITH moved_tasks AS (
    UPDATE tasks
    SET user_id = :new_user_id
    WHERE user_id = :user_id
    RETURNING id
),

moved_messages AS (
    UPDATE task_messages
    SET user_id = :new_user_id
    WHERE user_id = :user_id
    RETURNING id
)

SELECT count(*)
FROM moved_tasks;
