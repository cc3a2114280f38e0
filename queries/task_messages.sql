-- Task messages: the chat of a task. created_at is clock_timestamp(), so the
-- messages of one transaction still sort in the order they were written.

-- name: create_user_message(user_id, id, task_id, content, default_daily_limit, admin_email_domains, admin_daily_limit)^
-- Add a user message to the user's active (pending or processing) task if their usage today is under their limit, counted after locking the user; None otherwise, or if the task is not theirs or finished.
INSERT INTO task_messages (
    id,
    task_id,
    user_id,
    role,
    content,
    created_at,
    completed_at
)
SELECT
    :id,
    tasks.id,
    tasks.user_id,
    'user',
    :content,
    clock_timestamp(),
    clock_timestamp()
FROM tasks
CROSS JOIN lock_daily_usage(:user_id) AS usage
INNER JOIN users
    ON users.id = :user_id
WHERE tasks.user_id = :user_id
    AND tasks.id = :task_id
    AND tasks.deleted_at IS NULL
    AND tasks.status IN ('pending', 'processing')
    AND usage.used < daily_message_limit(
        users.email,
        usage.max_messages_per_day,
        :default_daily_limit,
        :admin_email_domains::text[],
        :admin_daily_limit
    )
RETURNING
    id,
    task_id,
    user_id,
    role,
    content,
    created_at,
    completed_at;

-- name: create_agent_message(user_id, id, task_id)^
-- Start an empty agent message on the user's task, to be streamed into; None if the task is not theirs.
INSERT INTO task_messages (
    id,
    task_id,
    user_id,
    role,
    content,
    created_at
)
SELECT
    :id,
    tasks.id,
    tasks.user_id,
    'agent',
    '',
    clock_timestamp()
FROM tasks
WHERE tasks.user_id = :user_id
    AND tasks.id = :task_id
    AND tasks.deleted_at IS NULL
RETURNING
    id,
    task_id,
    user_id,
    role,
    content,
    created_at,
    completed_at;

-- name: append_agent_message(user_id, message_id, delta, max_length, marker)$
-- Append a streamed chunk to the user's agent reply atomically, cut at max_length characters ending with the marker; returns the new length, None if not theirs, complete, or its task is soft-deleted.
UPDATE task_messages
SET
    content = CASE
        WHEN length(task_messages.content) + length(:delta) <= :max_length
            THEN task_messages.content || :delta
        ELSE left(task_messages.content || :delta, :max_length - length(:marker)) || :marker
    END
FROM tasks
WHERE task_messages.user_id = :user_id
    AND task_messages.id = :message_id
    AND task_messages.role = 'agent'
    AND task_messages.completed_at IS NULL
    AND tasks.user_id = task_messages.user_id
    AND tasks.id = task_messages.task_id
    AND tasks.deleted_at IS NULL
RETURNING length(task_messages.content);

-- name: get_agent_message(user_id, message_id)^
-- Get the user's agent reply; None if not theirs or its task is soft-deleted.
SELECT
    task_messages.id,
    task_messages.task_id,
    task_messages.user_id,
    task_messages.role,
    task_messages.content,
    task_messages.created_at,
    task_messages.completed_at
FROM task_messages
INNER JOIN tasks
    ON tasks.user_id = task_messages.user_id
        AND tasks.id = task_messages.task_id
WHERE task_messages.user_id = :user_id
    AND task_messages.id = :message_id
    AND task_messages.role = 'agent'
    AND tasks.deleted_at IS NULL;

-- name: lock_agent_message(user_id, message_id)^
-- The user's agent reply, locked until the transaction ends; None if not theirs or its task is soft-deleted.
SELECT
    task_messages.id,
    task_messages.task_id,
    task_messages.user_id,
    task_messages.role,
    task_messages.content,
    task_messages.created_at,
    task_messages.completed_at
FROM task_messages
INNER JOIN tasks
    ON tasks.user_id = task_messages.user_id
        AND tasks.id = task_messages.task_id
WHERE task_messages.user_id = :user_id
    AND task_messages.id = :message_id
    AND task_messages.role = 'agent'
    AND tasks.deleted_at IS NULL
FOR UPDATE OF task_messages;

-- name: complete_agent_message(user_id, message_id, content)^
-- Store the user's agent reply as complete, with its content redacted as a whole; None if not theirs.
UPDATE task_messages
SET
    content = :content,
    completed_at = COALESCE(completed_at, clock_timestamp())
WHERE user_id = :user_id
    AND id = :message_id
    AND role = 'agent'
RETURNING
    id,
    task_id,
    user_id,
    role,
    content,
    created_at,
    completed_at;

-- name: list_task_messages(user_id, task_id, limit)
-- List the messages of the user's task, oldest first.
SELECT
    task_messages.id,
    task_messages.task_id,
    task_messages.user_id,
    task_messages.role,
    task_messages.content,
    task_messages.created_at,
    task_messages.completed_at
FROM task_messages
INNER JOIN tasks
    ON tasks.user_id = task_messages.user_id
        AND tasks.id = task_messages.task_id
WHERE task_messages.user_id = :user_id
    AND task_messages.task_id = :task_id
    AND tasks.deleted_at IS NULL
ORDER BY task_messages.created_at, task_messages.id
LIMIT :limit;
