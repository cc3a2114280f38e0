-- Step 07 once more, now that the composite key of step 08 carries every
-- later account merge along: a message whose task changed owner between the
-- last batch of step 07 and step 08 gets its task's user_id. Usually it
-- changes nothing; it reads task_messages once, in batches, without
-- blocking writes.
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
