-- Undo 0005.create-task-messages.
DROP TABLE task_messages;
