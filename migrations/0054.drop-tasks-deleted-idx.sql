-- tasks_deleted_idx (soft-deleted tasks by id) gave way to 0050's
-- tasks_user_id_deleted_idx (by user and id), which the daily count probes
-- since 0051 and the purge reads whole: it is dropped without blocking
-- writes, with whatever this migration's rollback built for the rollbacks of
-- 0053 and 0051 (see there). The file runs outside a transaction (a
-- concurrent drop must): its timeouts are set for the session and reset at
-- the end.
-- transactional: false
-- depends: 0053.create-identity-tables

SET lock_timeout = '5s';
SET statement_timeout = '1h';

DROP INDEX CONCURRENTLY IF EXISTS tasks_deleted_idx;

DROP INDEX CONCURRENTLY IF EXISTS users_provider_external_id_key;

DROP INDEX CONCURRENTLY IF EXISTS api_tokens_token_hash_key;

DROP INDEX CONCURRENTLY IF EXISTS tasks_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS tasks_user_id_id_key;

DROP INDEX CONCURRENTLY IF EXISTS accounts_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS keys_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS task_messages_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS connectors_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS settings_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS api_tokens_id_pkey;

RESET statement_timeout;
RESET lock_timeout;
