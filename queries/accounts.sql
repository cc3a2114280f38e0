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
-- Unlink the user's account of a provider unless the user signs in with that provider (their primary sign-in); None if there was none or it is refused.
DELETE FROM accounts
WHERE user_id = :user_id
    AND provider = :provider
    AND NOT EXISTS (
        SELECT 1
        FROM users
        WHERE users.id = :user_id
            AND users.provider = :provider
    )
RETURNING id;

-- name: count_account_secrets()$
-- Unscoped (maintenance: key rotation): count the linked accounts, each holding encrypted tokens.
SELECT count(*)
FROM accounts;

-- name: list_account_secrets(after_user_id, after_id, batch_size)
-- Unscoped (maintenance: key rotation): lock and list the next batch of accounts' encrypted tokens, by user and id.
SELECT
    id,
    user_id,
    provider,
    access_token,
    refresh_token
FROM accounts
WHERE (user_id, id) > (:after_user_id, :after_id)
ORDER BY user_id, id
LIMIT :batch_size
FOR NO KEY UPDATE;

-- name: update_account_secrets(user_ids, ids, access_tokens, refresh_tokens)$
-- Unscoped (maintenance: key rotation): store re-encrypted tokens of a batch of accounts; returns the count.
WITH updated AS (
    UPDATE accounts
    SET
        access_token = batch.access_token,
        refresh_token = batch.refresh_token
    FROM unnest(:user_ids::text[], :ids::text[], :access_tokens::text[], :refresh_tokens::text[])
            AS batch (user_id, id, access_token, refresh_token)
    WHERE accounts.user_id = batch.user_id
        AND accounts.id = batch.id
    RETURNING accounts.id
)

SELECT count(*)
FROM updated;

-- name: lock_github_account(user_id, external_user_id)$
-- Lock the user's link to a GitHub account for a merge; None if that account is not (or no longer) linked to this user.
SELECT id
FROM accounts
WHERE user_id = :user_id
    AND provider = 'github'
    AND external_user_id = :external_user_id
FOR UPDATE;

-- name: delete_superseded_account(user_id, provider)$
-- Remove the user's link of a provider that a merged-in link replaces (no sign-in guard: the user stays linked); None if there was none.
DELETE FROM accounts
WHERE user_id = :user_id
    AND provider = :provider
RETURNING id;

-- name: move_account(user_id, account_id, new_user_id, access_token, refresh_token, expires_at, scope, username)^
-- Hand the user's linked account over to new_user_id with fresh tokens (encrypted for the new owner); None if not the user's.
UPDATE accounts
SET
    user_id = :new_user_id,
    access_token = :access_token,
    refresh_token = :refresh_token,
    expires_at = :expires_at,
    scope = :scope,
    username = :username,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :account_id
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

-- name: count_legacy_account_secrets()$
-- Unscoped (maintenance: key rotation): count linked accounts' tokens still in the legacy (unauthenticated) format.
SELECT
    count(*) FILTER (WHERE access_token NOT LIKE 'v1:%')
    + count(*) FILTER (WHERE refresh_token NOT LIKE 'v1:%')
FROM accounts;
