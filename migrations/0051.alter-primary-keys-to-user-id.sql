-- The primary key of every user-owned table keyed by id alone becomes
-- (user_id, id), so that the table can be distributed (Citus) or
-- hash-partitioned by user_id: such a table can only enforce keys that
-- contain user_id. Ids stay unique in practice (21 random characters), and
-- every query of the package already names the user. The unique indexes
-- were built by 0050 without blocking writes; here they only change role,
-- in the catalog: each table is locked ACCESS EXCLUSIVE for a moment.
--
-- tasks' unique constraint on (user_id, id), tasks_user_id_id_key, is what
-- the foreign keys of task_messages and task_log_pages reference, so it
-- cannot become the primary key in place: those keys are dropped, the
-- primary key takes 0050's index of the same columns, tasks_user_id_id_key
-- goes, and the keys are added again NOT VALID, each with its own definition
-- (an adopted database's task_messages key also cascades updates: adoption's
-- shim), to be validated by 0052 without blocking writes.
--
-- The daily count's "is this message's task deleted" probe names the user
-- too, into 0050's tasks_user_id_deleted_idx (0054 drops tasks_deleted_idx).
--
-- squawk's ban-drop-constraint is ignored for each primary key below: the
-- constraint that replaces it in the same statement still makes every row
-- unique, by the ids every query uses together.
-- depends: 0050.create-user-id-key-indexes

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

-- Children first, as the package's and the app's writes lock them.
LOCK TABLE task_log_pages, task_messages, tasks, accounts, keys, connectors, settings, api_tokens
    IN ACCESS EXCLUSIVE MODE;

ALTER TABLE accounts
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT accounts_pkey,
    ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_user_id_id_pkey;

ALTER TABLE keys
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT keys_pkey,
    ADD CONSTRAINT keys_pkey PRIMARY KEY USING INDEX keys_user_id_id_pkey;

ALTER TABLE task_messages
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT task_messages_pkey,
    ADD CONSTRAINT task_messages_pkey PRIMARY KEY USING INDEX task_messages_user_id_id_pkey;

ALTER TABLE connectors
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT connectors_pkey,
    ADD CONSTRAINT connectors_pkey PRIMARY KEY USING INDEX connectors_user_id_id_pkey;

ALTER TABLE settings
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT settings_pkey,
    ADD CONSTRAINT settings_pkey PRIMARY KEY USING INDEX settings_user_id_id_pkey;

ALTER TABLE api_tokens
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT api_tokens_pkey,
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY USING INDEX api_tokens_user_id_id_pkey;

-- tasks: the foreign keys that use tasks_user_id_id_key are dropped and
-- added again around the switch, keeping their definitions.
DO $$
DECLARE
    referencing record;
    definitions text [] := '{}';
    statement text;
BEGIN
    FOR referencing IN
        SELECT
            pg_constraint.conrelid::regclass AS table_name,
            pg_constraint.conname AS constraint_name,
            pg_get_constraintdef(pg_constraint.oid) AS definition
        FROM pg_constraint
        WHERE pg_constraint.confrelid = 'tasks'::regclass
            AND pg_constraint.contype = 'f'
        ORDER BY pg_constraint.conname
    LOOP
        EXECUTE format(
            'ALTER TABLE %s DROP CONSTRAINT %I',
            referencing.table_name,
            referencing.constraint_name
        );
        definitions := definitions || format(
            'ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID',
            referencing.table_name,
            referencing.constraint_name,
            referencing.definition
        );
    END LOOP;

    ALTER TABLE tasks
        DROP CONSTRAINT tasks_user_id_id_key,
        DROP CONSTRAINT tasks_pkey,
        ADD CONSTRAINT tasks_pkey PRIMARY KEY USING INDEX tasks_user_id_id_pkey;

    FOREACH statement IN ARRAY definitions LOOP
        EXECUTE statement;
    END LOOP;
END;
$$;

CREATE OR REPLACE VIEW daily_usage AS
SELECT
    users.id AS user_id,
    (
        SELECT count(*)
        FROM tasks
        WHERE tasks.user_id = users.id
            AND tasks.deleted_at IS NULL
            AND tasks.created_at >= date_trunc('day', now(), 'UTC')
    ) + (
        -- A message's task always exists (foreign key), so "its task is not
        -- soft-deleted" is "no deleted task of the user has its id": a probe
        -- into the small index of deleted tasks, by user and id.
        SELECT count(*)
        FROM task_messages
        WHERE task_messages.user_id = users.id
            AND task_messages.role = 'user'
            AND task_messages.created_at >= date_trunc('day', now(), 'UTC')
            AND task_messages.id <> task_messages.task_id
            AND NOT EXISTS (
                SELECT 1
                FROM tasks
                WHERE tasks.user_id = task_messages.user_id
                    AND tasks.id = task_messages.task_id
                    AND tasks.deleted_at IS NOT NULL
            )
    ) AS used,
    (
        SELECT settings.value::integer
        FROM settings
        WHERE settings.user_id = users.id
            AND settings.key = 'maxMessagesPerDay'
            AND settings.value ~ '^[0-9]{1,9}$'
    ) AS max_messages_per_day,
    date_trunc('day', now(), 'UTC') + interval '1 day' AS resets_at
FROM users;
