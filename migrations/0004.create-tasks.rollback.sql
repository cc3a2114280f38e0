-- Undo 0004.create-tasks.
DROP TABLE tasks;
