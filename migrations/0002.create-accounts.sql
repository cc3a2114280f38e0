-- Accounts: extra OAuth accounts linked to a user, e.g. the GitHub account a
-- Vercel user connects so the agent can push branches. One per provider per
-- user; the (provider, external_user_id) index serves the sign-in path that
-- finds a user through a linked GitHub account.
-- depends: 0001.create-users

SET LOCAL lock_timeout = '5s';

CREATE TABLE accounts (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider text NOT NULL DEFAULT 'github',
    external_user_id text NOT NULL,
    access_token text NOT NULL,
    refresh_token text,
    expires_at timestamptz,
    scope text,
    username text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_provider_check CHECK (provider IN ('github')),
    CONSTRAINT accounts_external_user_id_check CHECK (external_user_id <> ''),
    CONSTRAINT accounts_username_check CHECK (username <> ''),
    CONSTRAINT accounts_user_id_provider_key UNIQUE (user_id, provider)
);

CREATE INDEX accounts_provider_external_user_id_idx
    ON accounts (provider, external_user_id);

COMMENT ON TABLE accounts IS 'OAuth accounts linked to a user besides the one they signed in with.';
COMMENT ON COLUMN accounts.access_token IS
    'Encrypted (coding_agent_db.crypto): OAuth access token of the linked account.';
COMMENT ON COLUMN accounts.refresh_token IS
    'Encrypted (coding_agent_db.crypto): OAuth refresh token of the linked account.';
COMMENT ON COLUMN accounts.external_user_id IS 'The account''s user id at the provider.';
