-- Rows the app wrote that the package's constraints would refuse, where the
-- app's own reading of them is clear, are rewritten to that reading (the
-- `normalise` rows of checks/refusals.sql): a null flag or agent becomes the
-- column default, max_duration <= 0 or null becomes 300 (the app treats 0 as
-- its default), progress is clamped to 0..100, a JSON null document becomes
-- SQL null, and a maxMessagesPerDay setting like '25abc' becomes the number
-- the app's parseInt reads ('25'). Only offending rows are touched.
-- lock: ROW EXCLUSIVE on tasks, settings (row locks on the rows changed)
-- scans: tasks, settings
-- rewrites: none

SET LOCAL lock_timeout = '5s';

UPDATE tasks
SET
    selected_agent = coalesce(selected_agent, 'claude'),
    install_dependencies = coalesce(install_dependencies, false),
    keep_alive = coalesce(keep_alive, false),
    max_duration = CASE
        WHEN max_duration IS NULL OR max_duration <= 0 THEN 300
        ELSE max_duration
    END,
    progress = least(greatest(coalesce(progress, 0), 0), 100),
    logs = CASE WHEN jsonb_typeof(logs) = 'null' THEN NULL ELSE logs END,
    mcp_server_ids = CASE
        WHEN jsonb_typeof(mcp_server_ids) = 'null' THEN NULL
        ELSE mcp_server_ids
    END,
    sub_agent_activity = CASE
        WHEN jsonb_typeof(sub_agent_activity) = 'null' THEN NULL
        ELSE sub_agent_activity
    END
WHERE selected_agent IS NULL
    OR install_dependencies IS NULL
    OR keep_alive IS NULL
    OR max_duration IS NULL
    OR max_duration <= 0
    OR progress IS NULL
    OR progress NOT BETWEEN 0 AND 100
    OR jsonb_typeof(logs) = 'null'
    OR jsonb_typeof(mcp_server_ids) = 'null'
    OR jsonb_typeof(sub_agent_activity) = 'null';

UPDATE settings
SET
    value = parsed.digits
FROM (
    SELECT
        settings.id,
        CASE
            WHEN raw.digits_raw IS NULL OR length(raw.digits_raw) > 9 THEN NULL
            WHEN raw.digits_raw = '' THEN '0'
            ELSE raw.digits_raw
        END AS digits
    FROM settings
    CROSS JOIN LATERAL (
        SELECT ltrim(substring(settings.value FROM '^\s*\+?([0-9]+)'), '0') AS digits_raw
    ) AS raw
    WHERE settings.key = 'maxMessagesPerDay'
        AND settings.value !~ '^[0-9]{1,9}$'
) AS parsed
WHERE settings.id = parsed.id
    AND parsed.digits IS NOT NULL;
