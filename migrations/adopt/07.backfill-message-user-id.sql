-- task_messages.user_id, new in step 03, is filled from each message's task,
-- 10000 messages per transaction in id order, so no transaction holds many
-- row locks for long. The adopt module repeats this step until no message is
-- left, binding the last id of a batch as the start of the next (nothing is
-- kept in the session, which a transaction-mode pooler may swap between
-- batches). A message whose task changed owner meanwhile (the app's account
-- merge) is corrected too.
-- lock: ROW EXCLUSIVE on task_messages (row locks on one batch)
-- scans: task_messages, tasks
-- rewrites: none
-- repeat: until no message is left

SET LOCAL lock_timeout = '5s';

-- The owner is looked up per message through tasks' primary key (a scalar
-- subquery is never turned into a join), so a batch reads 10000 index
-- entries of tasks rather than the whole table with its logs.
WITH batch AS (
    SELECT
        task_messages.id,
        (
            SELECT tasks.user_id
            FROM tasks
            WHERE tasks.id = task_messages.task_id
        ) AS owner_id
    FROM task_messages
    WHERE task_messages.id > %(after)s
    ORDER BY task_messages.id
    LIMIT 10000
),
filled AS (
    UPDATE task_messages
    SET
        user_id = batch.owner_id
    FROM batch
    WHERE task_messages.id = batch.id
        AND task_messages.user_id IS DISTINCT FROM batch.owner_id
)
-- The batch's last message id while there were messages left to visit
-- (the next batch starts after it), no row at the end.
SELECT max(batch.id) AS last_id
FROM batch
HAVING count(*) > 0;
