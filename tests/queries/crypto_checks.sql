-- Test-only SQL for secrets at rest: read and overwrite encrypted columns as
-- stored, behind the data layer's back (to copy, corrupt or inspect them).

-- name: get_raw_sealed_user_tokens(user_id)^
-- The stored (encrypted) OAuth tokens of a user.
SELECT access_token, refresh_token FROM users WHERE id = :user_id;

-- name: set_raw_sealed_user_tokens(user_id, access_token, refresh_token)!
-- Overwrite the stored (encrypted) OAuth tokens of a user.
UPDATE users
SET access_token = :access_token, refresh_token = :refresh_token
WHERE id = :user_id;

-- name: get_raw_sealed_account_tokens(user_id)^
-- The stored (encrypted) OAuth tokens of a user's linked GitHub account.
SELECT access_token, refresh_token FROM accounts WHERE user_id = :user_id AND provider = 'github';

-- name: get_raw_sealed_connector_secrets(connector_id)^
-- The stored (encrypted) env and OAuth client secret of a connector.
SELECT env, oauth_client_secret FROM connectors WHERE id = :connector_id;

-- name: set_raw_sealed_connector_secrets(connector_id, env, oauth_client_secret)!
-- Overwrite the stored (encrypted) env and OAuth client secret of a connector.
UPDATE connectors
SET env = :env, oauth_client_secret = :oauth_client_secret
WHERE id = :connector_id;

-- name: list_raw_sealed_values()
-- Every stored (encrypted) value of every encrypted column, with where it is.
SELECT table_name, column_name, id, value
FROM (
    SELECT 'users' AS table_name, 'access_token' AS column_name, id, access_token AS value
    FROM users
    UNION ALL
    SELECT 'users', 'refresh_token', id, refresh_token FROM users
    UNION ALL
    SELECT 'accounts', 'access_token', id, access_token FROM accounts
    UNION ALL
    SELECT 'accounts', 'refresh_token', id, refresh_token FROM accounts
    UNION ALL
    SELECT 'keys', 'value', id, value FROM keys
    UNION ALL
    SELECT 'connectors', 'env', id, env FROM connectors
    UNION ALL
    SELECT 'connectors', 'oauth_client_secret', id, oauth_client_secret FROM connectors
) AS secret_columns
WHERE value IS NOT NULL
ORDER BY table_name, column_name, id;
