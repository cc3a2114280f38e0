-- Undo 0002.create-accounts.
DROP TABLE accounts;
