-- A task's log is kept as pages, so that an append costs the same at entry
-- 10 and at entry 100,000. Before, every append rewrote (and WAL-logged) the
-- whole JSONB array in tasks.logs. Now tasks.logs holds only the open page:
-- the last 1 to 100 entries, the first of them at index tasks.logs_offset.
-- Appends stay one atomic `logs || entries` statement, and this migration's
-- trigger seals, inside that statement, every full page an append leaves
-- before the open one into task_log_pages, starting a new open page.
--
-- Entry i of a task is entries[i - first_index] of its page, or
-- tasks.logs[i - logs_offset]: indexes never change. The view
-- task_log_entries shows a task's whole log, one row per entry.
--
-- A writer that empties the log (the app's clear-logs endpoint sets
-- `logs = '[]'`, and so does clear_task_logs) drops its sealed pages too:
-- appends never leave the open page empty over sealed pages, so an empty
-- one there can only mean the whole log was cleared.
--
-- Creating a table and a trigger, and adding a column with a constant
-- default, only touch the catalog: safe on a live database.
-- depends: 0030.add-task-messages-completed-at

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

CREATE FUNCTION task_log_page_size()
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN 100;

COMMENT ON FUNCTION task_log_page_size() IS
    'Entries per sealed page of a task''s log (task_log_pages); the open page in tasks.logs holds 1 to this many.';

ALTER TABLE tasks
    ADD COLUMN logs_offset bigint NOT NULL DEFAULT 0;

COMMENT ON COLUMN tasks.logs_offset IS
    'Index in the whole log of the first entry of tasks.logs: the number of entries in the task''s sealed pages (task_log_pages).';

COMMENT ON COLUMN tasks.logs IS
    'JSONB array of log entries {type: info|command|error|success|subagent, message, timestamp, agentSource?: {name, isSubAgent?, parentAgent?, subAgentId?}}, appended atomically (logs || new entries): the open page of the log, its last 1 to 100 entries from index logs_offset on (earlier ones are in task_log_pages).';

CREATE TABLE task_log_pages (
    user_id text NOT NULL,
    task_id text NOT NULL,
    first_index bigint NOT NULL,
    entries jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_log_pages_pkey PRIMARY KEY (user_id, task_id, first_index),
    -- ON UPDATE CASCADE: an account merge that moves tasks to another user
    -- (the app's `UPDATE tasks SET user_id`) takes their pages along.
    CONSTRAINT task_log_pages_task_fkey FOREIGN KEY (user_id, task_id)
        REFERENCES tasks (user_id, id) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT task_log_pages_first_index_check CHECK (first_index >= 0),
    CONSTRAINT task_log_pages_entries_check CHECK (jsonb_typeof(entries) = 'array')
);

COMMENT ON TABLE task_log_pages IS
    'Sealed pages of task logs: full pages of task_log_page_size() entries, written once by the tasks_seal_log_pages trigger.';
COMMENT ON COLUMN task_log_pages.task_id IS 'The task (of the same user) whose log the page belongs to.';
COMMENT ON COLUMN task_log_pages.first_index IS
    'Index in the whole log of the page''s first entry (a multiple of the page size).';
COMMENT ON COLUMN task_log_pages.entries IS
    'JSONB array of log entries {type, message, timestamp, agentSource?}, in order, the same shape as tasks.logs.';

CREATE FUNCTION seal_task_log_pages()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    page_size CONSTANT integer := task_log_page_size();
    open_length integer := COALESCE(jsonb_array_length(NEW.logs), 0);
    sealed bigint;
BEGIN
    IF open_length = 0 THEN
        -- The log was cleared: its sealed pages go with it.
        DELETE FROM task_log_pages
        WHERE task_log_pages.user_id = OLD.user_id
            AND task_log_pages.task_id = OLD.id;
        NEW.logs_offset := 0;
        RETURN NEW;
    END IF;

    -- Every full page but the last stays open: the open page keeps 1 to
    -- page_size entries.
    sealed := (open_length - 1) / page_size * page_size;
    INSERT INTO task_log_pages (user_id, task_id, first_index, entries)
    SELECT
        NEW.user_id,
        NEW.id,
        NEW.logs_offset + page.start,
        jsonb_path_query_array(
            NEW.logs,
            '$[$from to $to]',
            jsonb_build_object('from', page.start, 'to', page.start + page_size - 1)
        )
    FROM generate_series(0, sealed - 1, page_size) AS page (start);

    NEW.logs := jsonb_path_query_array(
        NEW.logs, '$[$from to last]', jsonb_build_object('from', sealed)
    );
    NEW.logs_offset := NEW.logs_offset + sealed;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION seal_task_log_pages() IS
    'Trigger of tasks: moves the full pages of tasks.logs into task_log_pages, or drops the pages of a cleared log.';

-- Fires only when a statement writes tasks.logs and leaves it over a page
-- (or cleared over sealed pages): other updates of a task skip it entirely.
CREATE TRIGGER tasks_seal_log_pages
BEFORE UPDATE OF logs ON tasks
FOR EACH ROW
WHEN (
    jsonb_array_length(NEW.logs) > task_log_page_size()
    OR (NEW.logs_offset > 0 AND COALESCE(jsonb_array_length(NEW.logs), 0) = 0)
)
EXECUTE FUNCTION seal_task_log_pages();

-- The reads of the API (get_task, get_task_logs) take a task's log from an
-- index on through this function: only the sealed pages holding such entries
-- are read (none for a poller that is up to date), and the first page is cut
-- to start at that index. PL/pgSQL, so that its statements' plans are cached
-- for the session (a SQL function's would be planned at every call).
CREATE FUNCTION task_log_since(
    of_user_id text,
    of_task_id text,
    open_offset bigint,
    open_page jsonb,
    after_index bigint
)
RETURNS jsonb []
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
DECLARE
    open_tail jsonb := COALESCE(open_page, '[]'::jsonb);
BEGIN
    IF after_index > open_offset THEN
        open_tail := jsonb_path_query_array(
            open_tail, '$[$from to last]', jsonb_build_object('from', after_index - open_offset)
        );
    END IF;
    IF after_index >= open_offset THEN
        RETURN ARRAY[open_tail];
    END IF;
    RETURN array(
        SELECT
            CASE
                WHEN page.first_index < after_index
                    THEN jsonb_path_query_array(
                            page.entries,
                            '$[$from to last]',
                            jsonb_build_object('from', after_index - page.first_index)
                        )
                ELSE page.entries
            END
        FROM task_log_pages AS page
        WHERE page.user_id = of_user_id
            AND page.task_id = of_task_id
            AND page.first_index >= (
                SELECT COALESCE(max(holding.first_index), 0)
                FROM task_log_pages AS holding
                WHERE holding.user_id = of_user_id
                    AND holding.task_id = of_task_id
                    AND holding.first_index <= after_index
            )
        ORDER BY page.first_index
    ) || open_tail;
END;
$$;

COMMENT ON FUNCTION task_log_since(text, text, bigint, jsonb, bigint) IS
    'The pages of a task''s log from entry after_index on, oldest first (sealed pages, then the open page), the first cut to start there; called with the task''s user_id, id, logs_offset and logs.';

CREATE VIEW task_log_entries AS
SELECT
    task_log_pages.user_id,
    task_log_pages.task_id,
    task_log_pages.first_index + entry.position - 1 AS index,
    entry.value AS entry
FROM task_log_pages
CROSS JOIN LATERAL jsonb_array_elements(task_log_pages.entries)
    WITH ORDINALITY AS entry (value, position)
UNION ALL
SELECT
    tasks.user_id,
    tasks.id AS task_id,
    tasks.logs_offset + entry.position - 1 AS index,
    entry.value AS entry
FROM tasks
CROSS JOIN LATERAL jsonb_array_elements(tasks.logs) WITH ORDINALITY AS entry (value, position);

COMMENT ON VIEW task_log_entries IS
    'Every task''s whole log, one row per entry: sealed pages and the open page. Filter by user_id and task_id, order by index.';
COMMENT ON COLUMN task_log_entries.task_id IS 'The task whose log holds the entry.';
COMMENT ON COLUMN task_log_entries.entry IS
    'JSONB object of one log entry {type, message, timestamp, agentSource?}, as stored.';
COMMENT ON COLUMN task_log_entries.index IS
    'Position of the entry in the task''s log, from 0; never changes once written.';
