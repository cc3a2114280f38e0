-- Users: the people who sign in. A user's id is the user_id of everything else.

-- name: get_user(user_id)^
-- Get a user by id.
SELECT
    id,
    provider,
    external_id,
    scope,
    username,
    email,
    name,
    avatar_url,
    created_at,
    updated_at,
    last_login_at
FROM users
WHERE id = :user_id;

-- name: get_user_identity(provider, external_id)^
-- Unscoped (authentication entry point): the user who signs in with this provider identity, by the identity alone.
SELECT user_id
FROM user_identities
WHERE provider = :provider
    AND external_id = :external_id;

-- name: get_account_identity(external_user_id)^
-- Unscoped (authentication entry point): the user a GitHub account is linked to (oldest link first), by the account's identity alone.
SELECT user_id
FROM account_identities
WHERE provider = 'github'
    AND external_user_id = :external_user_id
ORDER BY linked_at, account_id
LIMIT 1;

-- name: create_user(user_id, provider, external_id, access_token, refresh_token, scope, username, email, name, avatar_url)^
-- Create a user and their sign-in identity; None if the identity is taken (a concurrent first sign-in won: this waited for it to commit).
WITH identity AS (
    INSERT INTO user_identities (
        provider,
        external_id,
        user_id
    )
    VALUES (
        :provider,
        :external_id,
        :user_id
    )
    ON CONFLICT (provider, external_id) DO NOTHING
    RETURNING user_id
)

INSERT INTO users (
    id,
    provider,
    external_id,
    access_token,
    refresh_token,
    scope,
    username,
    email,
    name,
    avatar_url
)
SELECT
    identity.user_id,
    :provider,
    :external_id,
    :access_token,
    :refresh_token,
    :scope,
    :username,
    :email,
    :name,
    :avatar_url
FROM identity
RETURNING
    id,
    provider,
    external_id,
    scope,
    username,
    email,
    name,
    avatar_url,
    created_at,
    updated_at,
    last_login_at;

-- name: update_user_sign_in(user_id, access_token, refresh_token, scope, username, email, name, avatar_url)^
-- Record a sign-in: fresh access token and username, and what else the provider sent (a null keeps the stored value); last_login_at now.
UPDATE users
SET
    access_token = :access_token,
    refresh_token = COALESCE(:refresh_token, refresh_token),
    scope = COALESCE(:scope, scope),
    username = :username,
    email = COALESCE(:email, email),
    name = COALESCE(:name, name),
    avatar_url = COALESCE(:avatar_url, avatar_url),
    last_login_at = now(),
    updated_at = now()
WHERE id = :user_id
RETURNING
    id,
    provider,
    external_id,
    scope,
    username,
    email,
    name,
    avatar_url,
    created_at,
    updated_at,
    last_login_at;

-- name: update_user_last_login(user_id)^
-- Record a sign-in that came through a linked account: last_login_at now (the link and its tokens stay as they are).
UPDATE users
SET
    last_login_at = now(),
    updated_at = now()
WHERE id = :user_id
RETURNING
    id,
    provider,
    external_id,
    scope,
    username,
    email,
    name,
    avatar_url,
    created_at,
    updated_at,
    last_login_at;

-- name: get_user_tokens(user_id)^
-- Get the user's encrypted OAuth tokens of their sign-in provider.
SELECT
    access_token,
    refresh_token,
    scope
FROM users
WHERE id = :user_id;

-- name: lock_user(user_id)$
-- Lock the user's row until the transaction ends, serializing their capped inserts; None if no such user.
SELECT id
FROM users
WHERE id = :user_id
FOR NO KEY UPDATE;

-- name: delete_user(user_id)$
-- Delete a user and, by cascade, everything they own; None if no such user.
DELETE FROM users
WHERE id = :user_id
RETURNING id;

-- name: count_user_secrets()$
-- Unscoped (maintenance: key rotation): count the users, each holding encrypted tokens.
SELECT count(*)
FROM users;

-- name: list_user_secrets(after_id, batch_size)
-- Unscoped (maintenance: key rotation): lock and list the next batch of users' encrypted tokens, by id.
SELECT
    id,
    access_token,
    refresh_token
FROM users
WHERE id > :after_id
ORDER BY id
LIMIT :batch_size
FOR NO KEY UPDATE;

-- name: update_user_secrets(ids, access_tokens, refresh_tokens)$
-- Unscoped (maintenance: key rotation): store re-encrypted tokens of a batch of users; returns the count.
WITH updated AS (
    UPDATE users
    SET
        access_token = batch.access_token,
        refresh_token = batch.refresh_token
    FROM unnest(:ids::text[], :access_tokens::text[], :refresh_tokens::text[])
            AS batch (id, access_token, refresh_token)
    WHERE users.id = batch.id
    RETURNING users.id
)

SELECT count(*)
FROM updated;

-- name: get_github_token(user_id)^
-- Get the user's encrypted GitHub token an agent should use and its source: the linked account, else their GitHub sign-in, else a `github` key.
SELECT
    token_sources.source,
    token_sources.token
FROM (
    SELECT
        'account' AS source,
        accounts.access_token AS token,
        1 AS priority
    FROM accounts
    WHERE accounts.user_id = :user_id
        AND accounts.provider = 'github'
        AND accounts.access_token <> ''
    UNION ALL
    SELECT
        'user' AS source,
        users.access_token AS token,
        2 AS priority
    FROM users
    WHERE users.id = :user_id
        AND users.provider = 'github'
        AND users.access_token <> ''
    UNION ALL
    SELECT
        'key' AS source,
        keys.value AS token,
        3 AS priority
    FROM keys
    WHERE keys.user_id = :user_id
        AND keys.provider = 'github'
        AND keys.value <> ''
) AS token_sources
ORDER BY token_sources.priority
LIMIT 1;

-- name: lock_user_for_delete(user_id)$
-- Lock the user's row against every change until the transaction ends (it is about to be merged away); None if no such user.
SELECT id
FROM users
WHERE id = :user_id
FOR UPDATE;

-- name: count_legacy_user_secrets()$
-- Unscoped (maintenance: key rotation): count users' tokens still in the legacy (unauthenticated) format.
SELECT
    count(*) FILTER (WHERE access_token NOT LIKE 'v1:%')
    + count(*) FILTER (WHERE refresh_token NOT LIKE 'v1:%')
FROM users;
