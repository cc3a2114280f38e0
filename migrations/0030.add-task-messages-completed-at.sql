-- An agent reply streams in chunks, and a secret can be split across two of
-- them: each chunk is redacted alone, so the reply is redacted again as a
-- whole when it is complete (complete_agent_message), and read redacted as a
-- whole until then. completed_at records that end: NULL while the reply
-- streams (and for replies written before this column existed, which are
-- therefore always read redacted). Adding a nullable column without a
-- default only touches the catalog: safe on a live table.
-- depends: 0010.create-lock-daily-usage-function

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

ALTER TABLE task_messages
    ADD COLUMN completed_at timestamptz;

COMMENT ON COLUMN task_messages.completed_at IS
    'When an agent reply finished streaming (and was redacted as a whole); set at insert for user messages; NULL while a reply streams.';
