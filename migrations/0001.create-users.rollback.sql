-- Undo 0001.create-users.
DROP TABLE users;
