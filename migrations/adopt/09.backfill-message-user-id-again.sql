-- Step 07 once more, now that the composite key of step 08 carries every
-- later account merge along: a message whose task changed owner between the
-- last batch of step 07 and step 08 gets its task's user_id. Usually it
-- changes nothing and reads task_messages once, without blocking writes.
-- lock: ROW EXCLUSIVE on task_messages (row locks on one batch)
-- scans: task_messages, tasks
-- rewrites: none
-- repeat: until no rows change

SET LOCAL lock_timeout = '5s';

UPDATE task_messages
SET
    user_id = tasks.user_id
FROM tasks
WHERE tasks.id = task_messages.task_id
    AND task_messages.id IN (
        SELECT stale.id
        FROM task_messages AS stale
        INNER JOIN tasks AS owner
            ON owner.id = stale.task_id
        WHERE stale.user_id IS DISTINCT FROM owner.user_id
        LIMIT 10000
    );
