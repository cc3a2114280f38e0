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
    created_at
)
SELECT
    :id,
    tasks.id,
    tasks.user_id,
    'user',
    :content,
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
    created_at;

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
    created_at;

-- name: append_agent_message(user_id, message_id, delta)$
-- Append a streamed chunk to the user's agent message atomically; returns the new length, None if not theirs or its task is soft-deleted.
UPDATE task_messages
SET content = task_messages.content || :delta
FROM tasks
WHERE task_messages.user_id = :user_id
    AND task_messages.id = :message_id
    AND task_messages.role = 'agent'
    AND tasks.user_id = task_messages.user_id
    AND tasks.id = task_messages.task_id
    AND tasks.deleted_at IS NULL
RETURNING length(task_messages.content);

-- name: list_task_messages(user_id, task_id, limit)
-- List the messages of the user's task, oldest first.
SELECT
    task_messages.id,
    task_messages.task_id,
    task_messages.user_id,
    task_messages.role,
    task_messages.content,
    task_messages.created_at
FROM task_messages
INNER JOIN tasks
    ON tasks.user_id = task_messages.user_id
    AND tasks.id = task_messages.task_id
WHERE task_messages.user_id = :user_id
    AND task_messages.task_id = :task_id
    AND tasks.deleted_at IS NULL
ORDER BY task_messages.created_at, task_messages.id
LIMIT :limit;
