-- Undo 0010.create-lock-daily-usage-function.
DROP FUNCTION lock_daily_usage(text);
