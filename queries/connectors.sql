-- Connectors: users' MCP servers. env and oauth_client_secret are encrypted;
-- they are returned encrypted and only decrypted in Python.

-- name: create_connector(user_id, id, name, description, type, base_url, oauth_client_id, oauth_client_secret, command, env, status)^
-- Create an MCP server of the user.
INSERT INTO connectors (
    id,
    user_id,
    name,
    description,
    type,
    base_url,
    oauth_client_id,
    oauth_client_secret,
    command,
    env,
    status
)
VALUES (
    :id,
    :user_id,
    :name,
    :description,
    :type,
    :base_url,
    :oauth_client_id,
    :oauth_client_secret,
    :command,
    :env,
    :status
)
RETURNING
    id,
    user_id,
    name,
    description,
    type,
    base_url,
    oauth_client_id,
    oauth_client_secret,
    command,
    env,
    status,
    created_at,
    updated_at;

-- name: update_connector(user_id, connector_id, name, description, type, base_url, oauth_client_id, oauth_client_secret, command, env, status)^
-- Replace the definition of the user's MCP server; a null env or oauth_client_secret keeps the stored one.
UPDATE connectors
SET
    name = :name,
    description = :description,
    type = :type,
    base_url = :base_url,
    oauth_client_id = :oauth_client_id,
    oauth_client_secret = COALESCE(:oauth_client_secret, oauth_client_secret),
    command = :command,
    env = COALESCE(:env, env),
    status = :status,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :connector_id
RETURNING
    id,
    user_id,
    name,
    description,
    type,
    base_url,
    oauth_client_id,
    oauth_client_secret,
    command,
    env,
    status,
    created_at,
    updated_at;

-- name: update_connector_status(user_id, connector_id, status)$
-- Mark the user's MCP server connected or disconnected; returns its id, None if not theirs.
UPDATE connectors
SET
    status = :status,
    updated_at = now()
WHERE user_id = :user_id
    AND id = :connector_id
RETURNING id;

-- name: get_connector(user_id, connector_id)^
-- Get one of the user's MCP servers, secrets encrypted.
SELECT
    id,
    user_id,
    name,
    description,
    type,
    base_url,
    oauth_client_id,
    oauth_client_secret,
    command,
    env,
    status,
    created_at,
    updated_at
FROM connectors
WHERE user_id = :user_id
    AND id = :connector_id;

-- name: list_connectors(user_id, limit)
-- List the user's MCP servers by name, secrets encrypted.
SELECT
    id,
    user_id,
    name,
    description,
    type,
    base_url,
    oauth_client_id,
    oauth_client_secret,
    command,
    env,
    status,
    created_at,
    updated_at
FROM connectors
WHERE user_id = :user_id
ORDER BY name, id
LIMIT :limit;

-- name: count_connectors(user_id, connector_ids)$
-- Count how many of the given connector ids are the user's MCP servers.
SELECT count(*)
FROM connectors
WHERE user_id = :user_id
    AND id = ANY(:connector_ids::text[]);

-- name: delete_connector(user_id, connector_id)$
-- Delete one of the user's MCP servers; None if not theirs.
DELETE FROM connectors
WHERE user_id = :user_id
    AND id = :connector_id
RETURNING id;

-- name: count_connector_secrets()$
-- Unscoped (maintenance: key rotation): count the MCP servers, which may hold encrypted secrets.
SELECT count(*)
FROM connectors;

-- name: list_connector_secrets(after_user_id, after_id, batch_size)
-- Unscoped (maintenance: key rotation): lock and list the next batch of MCP servers' encrypted secrets, by user and id.
SELECT
    id,
    user_id,
    oauth_client_secret,
    env
FROM connectors
WHERE (user_id, id) > (:after_user_id, :after_id)
ORDER BY user_id, id
LIMIT :batch_size
FOR NO KEY UPDATE;

-- name: update_connector_secrets(user_ids, ids, oauth_client_secrets, envs)$
-- Unscoped (maintenance: key rotation): store re-encrypted secrets of a batch of MCP servers; returns the count.
WITH updated AS (
    UPDATE connectors
    SET
        oauth_client_secret = batch.oauth_client_secret,
        env = batch.env
    FROM unnest(:user_ids::text[], :ids::text[], :oauth_client_secrets::text[], :envs::text[])
            AS batch (user_id, id, oauth_client_secret, env)
    WHERE connectors.user_id = batch.user_id
        AND connectors.id = batch.id
    RETURNING connectors.id
)

SELECT count(*)
FROM updated;

-- name: list_movable_connectors(user_id)
-- Lock and list the user's MCP servers with their encrypted secrets, for a merge, by id.
SELECT
    id,
    oauth_client_secret,
    env
FROM connectors
WHERE user_id = :user_id
ORDER BY id
FOR UPDATE;

-- name: move_connectors(user_id, new_user_id, ids, oauth_client_secrets, envs)$
-- Hand the user's MCP servers over to new_user_id with their secrets re-encrypted for the new owner; returns the count.
WITH moved AS (
    UPDATE connectors
    SET
        user_id = :new_user_id,
        oauth_client_secret = batch.oauth_client_secret,
        env = batch.env,
        updated_at = now()
    FROM unnest(:ids::text[], :oauth_client_secrets::text[], :envs::text[])
            AS batch (id, oauth_client_secret, env)
    WHERE connectors.user_id = :user_id
        AND connectors.id = batch.id
    RETURNING connectors.id
)

SELECT count(*)
FROM moved;

-- name: count_legacy_connector_secrets()$
-- Unscoped (maintenance: key rotation): count MCP servers' secrets still in the legacy (unauthenticated) format.
SELECT
    count(*) FILTER (WHERE oauth_client_secret NOT LIKE 'v1:%')
    + count(*) FILTER (WHERE env NOT LIKE 'v1:%')
FROM connectors;
