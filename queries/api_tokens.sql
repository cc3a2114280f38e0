-- API tokens: programmatic access. Only SHA-256 hashes of raw tokens are stored.

-- name: create_api_token(user_id, id, name, token_hash, token_prefix, expires_at, max_live_tokens)^
-- Delete the user's expired tokens and create a token if they have fewer than max_live_tokens unexpired ones; None otherwise. Run after lock_user, in its transaction.
WITH expired AS (
    DELETE FROM api_tokens
    WHERE user_id = :user_id
        AND expires_at <= now()
    RETURNING id
)

INSERT INTO api_tokens (
    id,
    user_id,
    name,
    token_hash,
    token_prefix,
    expires_at
)
SELECT
    :id,
    :user_id,
    :name,
    :token_hash,
    :token_prefix,
    :expires_at
WHERE (
    SELECT count(*)
    FROM api_tokens
    WHERE user_id = :user_id
        AND (expires_at IS NULL OR expires_at > now())
) < :max_live_tokens
RETURNING
    id,
    user_id,
    name,
    token_prefix,
    last_used_at,
    expires_at,
    created_at,
    updated_at;

-- name: list_api_tokens(user_id, before_created_at, before_id, limit)
-- List the user's tokens older than the (before_created_at, before_id) keyset position, newest first, without their hashes.
SELECT
    id,
    user_id,
    name,
    token_prefix,
    last_used_at,
    expires_at,
    created_at,
    updated_at
FROM api_tokens
WHERE user_id = :user_id
    AND (created_at, id) < (:before_created_at, :before_id)
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: rename_api_token(user_id, token_id, name)^
-- Rename one of the user's tokens.
UPDATE api_tokens
SET
    name = :name,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :token_id
RETURNING
    id,
    user_id,
    name,
    token_prefix,
    last_used_at,
    expires_at,
    created_at,
    updated_at;

-- name: delete_api_token(user_id, token_id)$
-- Revoke one of the user's tokens; None if not theirs.
DELETE FROM api_tokens
WHERE user_id = :user_id
    AND id = :token_id
RETURNING id;

-- name: get_api_token_owner(token_hash)^
-- Unscoped (authentication entry point): the user and token a token hash belongs to, by the hash alone.
SELECT
    user_id,
    token_id
FROM api_token_hashes
WHERE token_hash = :token_hash;

-- name: authenticate_api_token(user_id, token_id, token_hash)^
-- Record the use of the user's unexpired token of this hash and return its owner; None if it expired or is gone.
UPDATE api_tokens
SET
    last_used_at = now(),
    updated_at = now()
FROM users
WHERE api_tokens.user_id = :user_id
    AND api_tokens.id = :token_id
    AND api_tokens.token_hash = :token_hash
    AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > now())
    AND users.id = :user_id
RETURNING
    users.id,
    users.provider,
    users.external_id,
    users.scope,
    users.username,
    users.email,
    users.name,
    users.avatar_url,
    users.created_at,
    users.updated_at,
    users.last_login_at;

-- name: purge_expired_api_tokens(grace)$
-- Unscoped (maintenance: retention): delete tokens of every user that expired longer ago than grace; returns the count.
WITH purged AS (
    DELETE FROM api_tokens
    WHERE expires_at < now() - :grace::interval
    RETURNING id
)

SELECT count(*)
FROM purged;
