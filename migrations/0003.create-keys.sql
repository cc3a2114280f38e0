-- Keys: the AI-provider API keys a user stores for agent runs, one per
-- provider per user.
-- depends: 0001.create-users

SET LOCAL lock_timeout = '5s';

CREATE TABLE keys (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider text NOT NULL,
    value text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT keys_provider_check CHECK (
        provider IN ('anthropic', 'openai', 'cursor', 'gemini', 'aigateway', 'github')
    ),
    CONSTRAINT keys_user_id_provider_key UNIQUE (user_id, provider)
);

COMMENT ON TABLE keys IS 'Users'' API keys for AI providers, handed to agent runs.';
COMMENT ON COLUMN keys.value IS 'Encrypted (coding_agent_db.crypto): the API key.';
