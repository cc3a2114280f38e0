-- Settings: per-user overrides of environment defaults, e.g. maxMessagesPerDay.
-- depends: 0001.create-users

SET LOCAL lock_timeout = '5s';

CREATE TABLE settings (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL,
    value text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT settings_key_check CHECK (key <> ''),
    CONSTRAINT settings_user_id_key_key UNIQUE (user_id, key)
);

COMMENT ON TABLE settings IS 'Per-user key/value overrides of environment defaults.';
