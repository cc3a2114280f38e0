-- Undo 0009.create-daily-usage-view.
DROP VIEW daily_usage;
