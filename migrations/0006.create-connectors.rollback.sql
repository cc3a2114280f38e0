-- Undo 0006.create-connectors.
DROP TABLE connectors;
