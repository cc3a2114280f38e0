-- Undo 0013.alter-connectors-status-default.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

ALTER TABLE connectors
    ALTER COLUMN status SET DEFAULT 'disconnected';
