-- Users: one row per person, keyed by the OAuth identity (GitHub or Vercel)
-- they first signed in with. Every other table hangs off users(id) and is
-- removed with it (ON DELETE CASCADE).
-- depends:

SET LOCAL lock_timeout = '5s';

CREATE TABLE users (
    id text PRIMARY KEY,
    provider text NOT NULL,
    external_id text NOT NULL,
    access_token text NOT NULL,
    refresh_token text,
    scope text,
    username text NOT NULL,
    email text,
    name text,
    avatar_url text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_provider_check CHECK (provider IN ('github', 'vercel')),
    CONSTRAINT users_external_id_check CHECK (external_id <> ''),
    CONSTRAINT users_username_check CHECK (username <> ''),
    CONSTRAINT users_provider_external_id_key UNIQUE (provider, external_id)
);

COMMENT ON TABLE users IS
    'People who signed in; (provider, external_id) is the sign-in identity.';
COMMENT ON COLUMN users.access_token IS
    'Encrypted (coding_agent_db.crypto): OAuth access token of the sign-in provider.';
COMMENT ON COLUMN users.refresh_token IS
    'Encrypted (coding_agent_db.crypto): OAuth refresh token, if the provider issued one.';
COMMENT ON COLUMN users.external_id IS 'The user''s id at the OAuth provider.';
