-- Keys: users' AI-provider API keys, encrypted, one per provider per user.

-- name: upsert_key(user_id, id, provider, value)^
-- Store the user's key for a provider, replacing the one already stored.
INSERT INTO keys (
    id,
    user_id,
    provider,
    value
)
VALUES (
    :id,
    :user_id,
    :provider,
    :value
)
ON CONFLICT (user_id, provider) DO UPDATE
    SET
        value = excluded.value,
        updated_at = now()
RETURNING
    id,
    user_id,
    provider,
    value,
    created_at,
    updated_at;

-- name: list_keys(user_id)
-- List the user's keys, encrypted, by provider (at most one per provider, so no LIMIT).
SELECT
    id,
    user_id,
    provider,
    value,
    created_at,
    updated_at
FROM keys
WHERE user_id = :user_id
ORDER BY provider;

-- name: get_key(user_id, provider)^
-- Get the user's key for a provider, encrypted.
SELECT
    id,
    user_id,
    provider,
    value,
    created_at,
    updated_at
FROM keys
WHERE user_id = :user_id
    AND provider = :provider;

-- name: delete_key(user_id, provider)$
-- Delete the user's key for a provider; None if there was none.
DELETE FROM keys
WHERE user_id = :user_id
    AND provider = :provider
RETURNING id;

-- name: count_key_secrets()$
-- Unscoped (maintenance: key rotation): count the stored keys.
SELECT count(*)
FROM keys;

-- name: list_key_secrets(after_user_id, after_id, batch_size)
-- Unscoped (maintenance: key rotation): lock and list the next batch of encrypted keys, by user and id.
SELECT
    id,
    user_id,
    provider,
    value
FROM keys
WHERE (user_id, id) > (:after_user_id, :after_id)
ORDER BY user_id, id
LIMIT :batch_size
FOR NO KEY UPDATE;

-- name: update_key_secrets(user_ids, ids, key_values)$
-- Unscoped (maintenance: key rotation): store re-encrypted values of a batch of keys; returns the count.
WITH updated AS (
    UPDATE keys
    SET value = batch.value
    FROM unnest(:user_ids::text[], :ids::text[], :key_values::text[]) AS batch (user_id, id, value)
    WHERE keys.user_id = batch.user_id
        AND keys.id = batch.id
    RETURNING keys.id
)

SELECT count(*)
FROM updated;

-- name: list_movable_keys(user_id, new_user_id)
-- Lock and list the user's encrypted keys for providers new_user_id has no key of (theirs win a merge), by provider.
SELECT
    id,
    provider,
    value
FROM keys
WHERE user_id = :user_id
    AND provider NOT IN (
        SELECT other.provider
        FROM keys AS other
        WHERE other.user_id = :new_user_id
    )
ORDER BY provider
FOR UPDATE;

-- name: move_keys(user_id, new_user_id, providers, key_values)$
-- Hand the user's keys of these providers over to new_user_id with their values re-encrypted for the new owner; returns the count.
WITH moved AS (
    UPDATE keys
    SET
        user_id = :new_user_id,
        value = batch.value,
        updated_at = now()
    FROM unnest(:providers::text[], :key_values::text[]) AS batch (provider, value)
    WHERE keys.user_id = :user_id
        AND keys.provider = batch.provider
    RETURNING keys.id
)

SELECT count(*)
FROM moved;

-- name: count_legacy_key_secrets()$
-- Unscoped (maintenance: key rotation): count stored keys still in the legacy (unauthenticated) format.
SELECT count(*)
FROM keys
WHERE value NOT LIKE 'v1:%';
