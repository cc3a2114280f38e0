-- Three lookups find a user by something other than user_id: sign-in by
-- provider identity, sign-in through a linked GitHub account, and API token
-- authentication by hash. A table distributed or hash-partitioned by user_id
-- cannot keep a unique index on those, nor find them without asking every
-- node. So each gets a small table keyed by the identity itself:
--
--   user_identities     (provider, external_id)                   -> user_id
--   account_identities  (provider, external_user_id, account_id)  -> user_id
--   api_token_hashes    (token_hash)                              -> user_id, token_id
--
-- A lookup is one read by that key, then queries of one user. Each is
-- written in the statement that writes the row it indexes, by this
-- migration's triggers, whoever writes it (this package, the TypeScript app
-- while it shares the database, a DBA), and follows it by foreign key when
-- it is deleted or moved to another user (an account merge). The primary
-- keys keep what the unique constraints on users and api_tokens kept, which
-- are dropped: two users with one sign-in identity, or two tokens with one
-- hash, fail as before (unique_violation), and concurrent first sign-ins of
-- one identity wait for each other on user_identities.
--
-- Creating the triggers locks users, accounts and api_tokens against writes
-- (SHARE ROW EXCLUSIVE) until the copy of their identities commits: one
-- read of each of these small tables.
-- depends: 0052.validate-task-foreign-keys

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30min';

CREATE TABLE user_identities (
    provider text NOT NULL,
    external_id text NOT NULL,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_identities_pkey PRIMARY KEY (provider, external_id)
);

CREATE INDEX user_identities_user_id_idx ON user_identities (user_id);

CREATE TABLE account_identities (
    provider text NOT NULL,
    external_user_id text NOT NULL,
    user_id text NOT NULL,
    account_id text NOT NULL,
    linked_at timestamptz NOT NULL,
    CONSTRAINT account_identities_pkey PRIMARY KEY (provider, external_user_id, account_id),
    CONSTRAINT account_identities_account_fkey FOREIGN KEY (user_id, account_id)
        REFERENCES accounts (user_id, id) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX account_identities_user_id_account_id_idx
    ON account_identities (user_id, account_id);

CREATE TABLE api_token_hashes (
    token_hash text NOT NULL,
    user_id text NOT NULL,
    token_id text NOT NULL,
    CONSTRAINT api_token_hashes_pkey PRIMARY KEY (token_hash),
    CONSTRAINT api_token_hashes_token_fkey FOREIGN KEY (user_id, token_id)
        REFERENCES api_tokens (user_id, id) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX api_token_hashes_user_id_token_id_idx
    ON api_token_hashes (user_id, token_id);

COMMENT ON TABLE user_identities IS
    'Sign-in identities: who (provider, external_id) is, kept by the users triggers; the lookup of sign-in.';
COMMENT ON COLUMN user_identities.provider IS 'The OAuth provider of the identity (users.provider).';
COMMENT ON COLUMN user_identities.external_id IS
    'The user''s id at the provider (users.external_id).';
COMMENT ON TABLE account_identities IS
    'Linked accounts by their provider identity, kept by the accounts triggers; the lookup of sign-in through a linked GitHub account (oldest link first).';
COMMENT ON COLUMN account_identities.provider IS 'The linked account''s provider (accounts.provider).';
COMMENT ON COLUMN account_identities.external_user_id IS
    'The account''s id at the provider (accounts.external_user_id).';
COMMENT ON COLUMN account_identities.account_id IS 'The linked account (accounts.id).';
COMMENT ON COLUMN account_identities.linked_at IS
    'When the account was linked (accounts.created_at): the oldest link of an identity wins.';
COMMENT ON TABLE api_token_hashes IS
    'API tokens by hash, kept by the api_tokens triggers; the lookup of token authentication.';
COMMENT ON COLUMN api_token_hashes.token_hash IS
    'SHA-256 of the raw token, lowercase hex (api_tokens.token_hash).';
COMMENT ON COLUMN api_token_hashes.token_id IS 'The token (api_tokens.id).';

CREATE FUNCTION index_user_identity()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM user_identities
        WHERE user_identities.provider = OLD.provider
            AND user_identities.external_id = OLD.external_id
            AND user_identities.user_id = OLD.id;
    END IF;
    INSERT INTO user_identities (provider, external_id, user_id)
    VALUES (NEW.provider, NEW.external_id, NEW.id)
    ON CONFLICT (provider, external_id) DO NOTHING;
    -- Already there: this user's (written first by create_user), or another
    -- user's, which the dropped unique constraint refused as this does.
    IF NOT FOUND AND NOT EXISTS (
        SELECT 1
        FROM user_identities
        WHERE user_identities.provider = NEW.provider
            AND user_identities.external_id = NEW.external_id
            AND user_identities.user_id = NEW.id
    ) THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "user_identities_pkey"'
            USING ERRCODE = 'unique_violation',
                CONSTRAINT = 'user_identities_pkey',
                TABLE = 'user_identities',
                DETAIL = 'Another user signs in with this provider identity.';
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION index_user_identity() IS
    'Trigger of users: keeps the row''s sign-in identity in user_identities, refusing one that is another user''s.';

CREATE TRIGGER users_index_identity
AFTER INSERT ON users
FOR EACH ROW
EXECUTE FUNCTION index_user_identity();

CREATE TRIGGER users_index_changed_identity
AFTER UPDATE OF provider, external_id ON users
FOR EACH ROW
WHEN (OLD.provider IS DISTINCT FROM NEW.provider OR OLD.external_id IS DISTINCT FROM NEW.external_id)
EXECUTE FUNCTION index_user_identity();

CREATE FUNCTION index_account_identity()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- An account moved to another user (an account merge) is carried over by
    -- the foreign key's ON UPDATE CASCADE; where the move is a delete and an
    -- insert (between hash partitions), the insert below meets the carried
    -- row and takes the new owner too.
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM account_identities
        WHERE account_identities.user_id IN (OLD.user_id, NEW.user_id)
            AND account_identities.account_id = OLD.id;
    END IF;
    INSERT INTO account_identities (provider, external_user_id, user_id, account_id, linked_at)
    VALUES (NEW.provider, NEW.external_user_id, NEW.user_id, NEW.id, NEW.created_at)
    ON CONFLICT (provider, external_user_id, account_id) DO UPDATE
    SET
        user_id = excluded.user_id,
        linked_at = excluded.linked_at;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION index_account_identity() IS
    'Trigger of accounts: keeps the linked account''s provider identity in account_identities.';

CREATE TRIGGER accounts_index_identity
AFTER INSERT ON accounts
FOR EACH ROW
EXECUTE FUNCTION index_account_identity();

CREATE TRIGGER accounts_index_changed_identity
AFTER UPDATE OF provider, external_user_id ON accounts
FOR EACH ROW
WHEN (
    OLD.provider IS DISTINCT FROM NEW.provider
    OR OLD.external_user_id IS DISTINCT FROM NEW.external_user_id
)
EXECUTE FUNCTION index_account_identity();

CREATE FUNCTION index_api_token_hash()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM api_token_hashes
        WHERE api_token_hashes.token_hash = OLD.token_hash
            AND api_token_hashes.user_id = NEW.user_id
            AND api_token_hashes.token_id = OLD.id;
    END IF;
    INSERT INTO api_token_hashes (token_hash, user_id, token_id)
    VALUES (NEW.token_hash, NEW.user_id, NEW.id)
    ON CONFLICT (token_hash) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "api_token_hashes_pkey"'
            USING ERRCODE = 'unique_violation',
                CONSTRAINT = 'api_token_hashes_pkey',
                TABLE = 'api_token_hashes',
                DETAIL = 'Another token has this hash.';
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION index_api_token_hash() IS
    'Trigger of api_tokens: keeps the token''s hash in api_token_hashes, refusing one another token has.';

CREATE TRIGGER api_tokens_index_hash
AFTER INSERT ON api_tokens
FOR EACH ROW
EXECUTE FUNCTION index_api_token_hash();

CREATE TRIGGER api_tokens_index_changed_hash
AFTER UPDATE OF token_hash ON api_tokens
FOR EACH ROW
WHEN (OLD.token_hash IS DISTINCT FROM NEW.token_hash)
EXECUTE FUNCTION index_api_token_hash();

INSERT INTO user_identities (provider, external_id, user_id, created_at)
SELECT
    users.provider,
    users.external_id,
    users.id,
    users.created_at
FROM users;

INSERT INTO account_identities (provider, external_user_id, user_id, account_id, linked_at)
SELECT
    accounts.provider,
    accounts.external_user_id,
    accounts.user_id,
    accounts.id,
    accounts.created_at
FROM accounts;

INSERT INTO api_token_hashes (token_hash, user_id, token_id)
SELECT
    api_tokens.token_hash,
    api_tokens.user_id,
    api_tokens.id
FROM api_tokens;

-- The identity tables' primary keys enforce these now; the plain indexes of
-- 0050 serve lookups by the same columns from other writers.
ALTER TABLE users
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT users_provider_external_id_key;

ALTER TABLE api_tokens
    -- squawk-ignore ban-drop-constraint
    DROP CONSTRAINT api_tokens_token_hash_key;
