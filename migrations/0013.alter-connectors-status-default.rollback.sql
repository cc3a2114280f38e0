-- Undo 0013.alter-connectors-status-default.
SET LOCAL lock_timeout = '5s';

ALTER TABLE connectors
    ALTER COLUMN status SET DEFAULT 'disconnected';
