-- Undo 0050.create-user-id-key-indexes: drop its indexes without blocking
-- writes.
-- transactional: false

SET lock_timeout = '5s';
SET statement_timeout = '1h';

DROP INDEX CONCURRENTLY IF EXISTS tasks_user_id_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS accounts_user_id_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS keys_user_id_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS task_messages_user_id_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS connectors_user_id_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS settings_user_id_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS api_tokens_user_id_id_pkey;

DROP INDEX CONCURRENTLY IF EXISTS tasks_user_id_deleted_idx;

DROP INDEX CONCURRENTLY IF EXISTS users_provider_external_id_idx;

DROP INDEX CONCURRENTLY IF EXISTS api_tokens_token_hash_idx;

RESET statement_timeout;
RESET lock_timeout;
