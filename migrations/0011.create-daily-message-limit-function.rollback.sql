-- Undo 0011.create-daily-message-limit-function.
DROP FUNCTION daily_message_limit(text, integer, integer, text[], integer);
