-- Undo 0011.create-daily-message-limit-function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';
-- Undoing this migration drops what it created:
-- squawk-ignore ban-drop-function
DROP FUNCTION daily_message_limit(text, integer, integer, text[], integer);
