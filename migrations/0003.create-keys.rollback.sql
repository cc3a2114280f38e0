-- Undo 0003.create-keys.
DROP TABLE keys;
