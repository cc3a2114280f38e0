-- The foreign keys 0051 added again NOT VALID are validated: each reads its
-- table once under SHARE UPDATE EXCLUSIVE, so reads and writes go on.
-- depends: 0051.alter-primary-keys-to-user-id

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1h';

ALTER TABLE task_messages VALIDATE CONSTRAINT task_messages_task_fkey;

ALTER TABLE task_log_pages VALIDATE CONSTRAINT task_log_pages_task_fkey;
