-- task_messages.user_id, new in step 03, is filled from each message's task,
-- 10000 rows per transaction (the adopt module repeats this step until it
-- changes nothing), so no transaction holds many row locks for long. A
-- message whose task changed owner meanwhile (the app's account merge) is
-- corrected too.
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
