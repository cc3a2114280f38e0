-- Settings: per-user overrides of environment defaults (e.g. maxMessagesPerDay).

-- name: get_setting(user_id, key)^
-- Get one of the user's settings.
SELECT
    id,
    user_id,
    key,
    value,
    created_at,
    updated_at
FROM settings
WHERE user_id = :user_id
    AND key = :key;

-- name: list_settings(user_id)
-- List the user's settings by key (keys are defined by the application, so no LIMIT).
SELECT
    id,
    user_id,
    key,
    value,
    created_at,
    updated_at
FROM settings
WHERE user_id = :user_id
ORDER BY key;

-- name: upsert_setting(user_id, id, key, value)^
-- Set one of the user's settings, replacing its previous value.
INSERT INTO settings (
    id,
    user_id,
    key,
    value
)
VALUES (
    :id,
    :user_id,
    :key,
    :value
)
ON CONFLICT (user_id, key) DO UPDATE
    SET
        value = excluded.value,
        updated_at = now()
RETURNING
    id,
    user_id,
    key,
    value,
    created_at,
    updated_at;

-- name: delete_setting(user_id, key)$
-- Delete one of the user's settings; None if it was not set.
DELETE FROM settings
WHERE user_id = :user_id
    AND key = :key
RETURNING id;
