-- API tokens: programmatic access. Only the SHA-256 of a token is stored; the
-- raw token is shown once, at creation. Authentication looks a token up by
-- its hash, hence the unique index.
-- depends: 0001.create-users

SET LOCAL lock_timeout = '5s';

CREATE TABLE api_tokens (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    token_hash text NOT NULL,
    token_prefix text NOT NULL,
    last_used_at timestamptz,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_tokens_name_check CHECK (name <> ''),
    CONSTRAINT api_tokens_token_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX api_tokens_user_id_created_at_idx ON api_tokens (user_id, created_at, id);

COMMENT ON TABLE api_tokens IS 'API tokens for programmatic access; raw tokens are never stored.';
COMMENT ON COLUMN api_tokens.token_hash IS 'SHA-256 (hex) of the raw token.';
COMMENT ON COLUMN api_tokens.token_prefix IS 'First characters of the raw token, for display.';
