-- Connectors: a user's MCP servers, either local (a command run in the
-- sandbox) or remote (an HTTP endpoint, optionally with an OAuth client).
-- depends: 0001.create-users

SET LOCAL lock_timeout = '5s';

CREATE TABLE connectors (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    description text,
    type text NOT NULL DEFAULT 'remote',
    base_url text,
    oauth_client_id text,
    oauth_client_secret text,
    command text,
    env text,
    status text NOT NULL DEFAULT 'disconnected',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT connectors_name_check CHECK (name <> ''),
    CONSTRAINT connectors_type_check CHECK (type IN ('local', 'remote')),
    CONSTRAINT connectors_status_check CHECK (status IN ('connected', 'disconnected')),
    CONSTRAINT connectors_type_target_check CHECK (
        (type = 'local' AND command IS NOT NULL)
        OR (type = 'remote' AND base_url IS NOT NULL)
    )
);

CREATE INDEX connectors_user_id_name_idx ON connectors (user_id, name, id);

COMMENT ON TABLE connectors IS 'MCP servers configured by a user.';
COMMENT ON COLUMN connectors.command IS 'Local servers: the command line started in the sandbox.';
COMMENT ON COLUMN connectors.base_url IS 'Remote servers: the HTTP endpoint.';
COMMENT ON COLUMN connectors.oauth_client_secret IS
    'Encrypted (coding_agent_db.crypto): OAuth client secret of a remote server.';
COMMENT ON COLUMN connectors.env IS
    'Encrypted (coding_agent_db.crypto): JSON object of environment variables, encrypted whole.';
