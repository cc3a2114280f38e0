-- New MCP servers start `connected`, as the TypeScript app creates them
-- (create_connector passes the status explicitly; this keeps the column's
-- default in line for rows inserted by hand). A catalog-only change.
-- depends: 0006.create-connectors

SET LOCAL lock_timeout = '5s';

ALTER TABLE connectors
    ALTER COLUMN status SET DEFAULT 'connected';
