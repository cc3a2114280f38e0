-- Task messages: the chat of a task. created_at is clock_timestamp(), so the
-- messages of one transaction still sort in the order they were written.

-- name: create_user_message(user_id, id, task_id, content, default_daily_limit)^
-- Add a user message to the user's task if their usage today is under their limit (their setting, else default_daily_limit), counted after locking the user; None otherwise, or if the task is not theirs.
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
WHERE tasks.user_id = :user_id
    AND tasks.id = :task_id
    AND tasks.deleted_at IS NULL
    AND usage.used < COALESCE(usage.max_messages_per_day, :default_daily_limit)
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
-- Append a streamed chunk to the user's agent reply atomically, cut at max_length characters ending with the marker; returns the new length, None if not theirs or complete.
UPDATE task_messages
SET content = CASE
    WHEN length(content) + length(:delta) <= :max_length THEN content || :delta
    ELSE left(content || :delta, :max_length - length(:marker)) || :marker
END
WHERE user_id = :user_id
    AND id = :message_id
    AND role = 'agent'
    AND completed_at IS NULL
RETURNING length(content);

-- name: lock_agent_message(user_id, message_id)^
-- The user's agent reply, locked until the transaction ends; None if not theirs.
SELECT
    id,
    task_id,
    user_id,
    role,
    content,
    created_at,
    completed_at
FROM task_messages
WHERE user_id = :user_id
    AND id = :message_id
    AND role = 'agent'
FOR UPDATE;

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
