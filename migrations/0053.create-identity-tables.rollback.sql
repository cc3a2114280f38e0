-- Undo 0053.create-identity-tables: the unique constraints on users and
-- api_tokens again, on the unique indexes 0054's rollback built without
-- blocking writes, and the identity tables and their triggers gone.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

ALTER TABLE users
    ADD CONSTRAINT users_provider_external_id_key
    UNIQUE USING INDEX users_provider_external_id_key;

ALTER TABLE api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key
    UNIQUE USING INDEX api_tokens_token_hash_key;

DROP TRIGGER api_tokens_index_changed_hash ON api_tokens;

DROP TRIGGER api_tokens_index_hash ON api_tokens;

DROP TRIGGER accounts_index_changed_identity ON accounts;

DROP TRIGGER accounts_index_identity ON accounts;

DROP TRIGGER users_index_changed_identity ON users;

DROP TRIGGER users_index_identity ON users;

-- squawk-ignore ban-drop-function
DROP FUNCTION index_api_token_hash();

-- squawk-ignore ban-drop-function
DROP FUNCTION index_account_identity();

-- squawk-ignore ban-drop-function
DROP FUNCTION index_user_identity();

-- squawk-ignore ban-drop-table
DROP TABLE api_token_hashes;

-- squawk-ignore ban-drop-table
DROP TABLE account_identities;

-- squawk-ignore ban-drop-table
DROP TABLE user_identities;
