-- Accounts: OAuth accounts linked to a user besides their sign-in identity.

-- name: upsert_account(user_id, id, provider, external_user_id, access_token, refresh_token, expires_at, scope, username)^
-- Link an account to the user, or refresh the one already linked for that provider.
INSERT INTO accounts (
    id,
    user_id,
    provider,
    external_user_id,
    access_token,
    refresh_token,
    expires_at,
    scope,
    username
)
VALUES (
    :id,
    :user_id,
    :provider,
    :external_user_id,
    :access_token,
    :refresh_token,
    :expires_at,
    :scope,
    :username
)
ON CONFLICT (user_id, provider) DO UPDATE
    SET
        external_user_id = excluded.external_user_id,
        access_token = excluded.access_token,
        refresh_token = excluded.refresh_token,
        expires_at = excluded.expires_at,
        scope = excluded.scope,
        username = excluded.username,
        updated_at = now()
RETURNING
    id,
    user_id,
    provider,
    external_user_id,
    expires_at,
    scope,
    username,
    created_at,
    updated_at;

-- name: get_account(user_id, provider)^
-- Get the user's linked account of a provider.
SELECT
    id,
    user_id,
    provider,
    external_user_id,
    expires_at,
    scope,
    username,
    created_at,
    updated_at
FROM accounts
WHERE user_id = :user_id
    AND provider = :provider;

-- name: get_account_tokens(user_id, provider)^
-- Get the encrypted OAuth tokens of the user's linked account of a provider.
SELECT
    access_token,
    refresh_token,
    scope,
    expires_at
FROM accounts
WHERE user_id = :user_id
    AND provider = :provider;

-- name: delete_account(user_id, provider)$
-- Unlink the user's account of a provider; None if there was none.
DELETE FROM accounts
WHERE user_id = :user_id
    AND provider = :provider
RETURNING id;

-- name: count_account_secrets()$
-- Unscoped (maintenance: key rotation): count the linked accounts, each holding encrypted tokens.
SELECT count(*)
FROM accounts;

-- name: list_account_secrets(after_id, batch_size)
-- Unscoped (maintenance: key rotation): lock and list the next batch of accounts' encrypted tokens, by id.
SELECT
    id,
    user_id,
    provider,
    access_token,
    refresh_token
FROM accounts
WHERE id > :after_id
ORDER BY id
LIMIT :batch_size
FOR NO KEY UPDATE;

-- name: update_account_secrets(ids, access_tokens, refresh_tokens)$
-- Unscoped (maintenance: key rotation): store re-encrypted tokens of a batch of accounts; returns the count.
WITH updated AS (
    UPDATE accounts
    SET
        access_token = batch.access_token,
        refresh_token = batch.refresh_token
    FROM unnest(:ids::text[], :access_tokens::text[], :refresh_tokens::text[])
            AS batch (id, access_token, refresh_token)
    WHERE accounts.id = batch.id
    RETURNING accounts.id
)

SELECT count(*)
FROM updated;
