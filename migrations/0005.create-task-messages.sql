-- Task messages: the chat between a user and the agent of one task. A message
-- references its task together with the owner, (user_id, task_id), so it can
-- never hang off another user's task. The partial index on user-role messages
-- serves the daily limit, which counts them (task_id included, to check each
-- one's task without visiting the table).
-- depends: 0004.create-tasks

SET LOCAL lock_timeout = '5s';

CREATE TABLE task_messages (
    id text PRIMARY KEY,
    task_id text NOT NULL,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL,
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_messages_role_check CHECK (role IN ('user', 'agent')),
    CONSTRAINT task_messages_task_fkey FOREIGN KEY (user_id, task_id)
        REFERENCES tasks (user_id, id) ON DELETE CASCADE
);

CREATE INDEX task_messages_user_id_task_id_created_at_idx
    ON task_messages (user_id, task_id, created_at, id);

CREATE INDEX task_messages_user_id_created_at_idx
    ON task_messages (user_id, created_at)
    INCLUDE (task_id)
    WHERE role = 'user';

COMMENT ON TABLE task_messages IS 'Messages between a user and the agent of a task.';
COMMENT ON COLUMN task_messages.content IS
    'Agent replies start empty and grow by atomic appends while they stream.';
