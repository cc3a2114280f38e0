-- Undo 0007.create-settings.
DROP TABLE settings;
