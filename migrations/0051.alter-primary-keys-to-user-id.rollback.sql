-- Undo 0051.alter-primary-keys-to-user-id: primary keys on id alone again,
-- tasks_user_id_id_key back under the foreign keys of task_messages and
-- task_log_pages, and the daily count's probe by task id. The indexes were
-- built by 0054's rollback without blocking writes; here they only change
-- role. The foreign keys are added again validated: that reads task_messages
-- and task_log_pages while they are locked.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1h';

LOCK TABLE task_log_pages, task_messages, tasks, accounts, keys, connectors, settings, api_tokens
    IN ACCESS EXCLUSIVE MODE;

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
        SELECT count(*)
        FROM task_messages
        WHERE task_messages.user_id = users.id
            AND task_messages.role = 'user'
            AND task_messages.created_at >= date_trunc('day', now(), 'UTC')
            AND task_messages.id <> task_messages.task_id
            AND NOT EXISTS (
                SELECT 1
                FROM tasks
                WHERE tasks.id = task_messages.task_id
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
            'ALTER TABLE %s ADD CONSTRAINT %I %s',
            referencing.table_name,
            referencing.constraint_name,
            referencing.definition
        );
    END LOOP;

    ALTER TABLE tasks
        DROP CONSTRAINT tasks_pkey,
        ADD CONSTRAINT tasks_pkey PRIMARY KEY USING INDEX tasks_id_pkey,
        ADD CONSTRAINT tasks_user_id_id_key UNIQUE USING INDEX tasks_user_id_id_key;

    FOREACH statement IN ARRAY definitions LOOP
        EXECUTE statement;
    END LOOP;
END;
$$;

ALTER TABLE accounts
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT accounts_pkey,
    ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_pkey;

ALTER TABLE keys
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT keys_pkey,
    ADD CONSTRAINT keys_pkey PRIMARY KEY USING INDEX keys_id_pkey;

ALTER TABLE task_messages
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT task_messages_pkey,
    ADD CONSTRAINT task_messages_pkey PRIMARY KEY USING INDEX task_messages_id_pkey;

ALTER TABLE connectors
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT connectors_pkey,
    ADD CONSTRAINT connectors_pkey PRIMARY KEY USING INDEX connectors_id_pkey;

ALTER TABLE settings
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT settings_pkey,
    ADD CONSTRAINT settings_pkey PRIMARY KEY USING INDEX settings_id_pkey;

ALTER TABLE api_tokens
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT api_tokens_pkey,
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY USING INDEX api_tokens_id_pkey;
