-- The comments of 0001-0008 on tables and columns, so a DBA reading the
-- adopted schema sees what a fresh one says (which columns are encrypted).
-- lock: SHARE UPDATE EXCLUSIVE on users, accounts, keys, tasks, task_messages, connectors, settings, api_tokens (reads and writes continue)
-- scans: none
-- rewrites: none

SET LOCAL lock_timeout = '5s';

COMMENT ON TABLE users IS
    'People who signed in; (provider, external_id) is the sign-in identity.';
COMMENT ON COLUMN users.access_token IS
    'Encrypted (coding_agent_db.crypto): OAuth access token of the sign-in provider.';
COMMENT ON COLUMN users.refresh_token IS
    'Encrypted (coding_agent_db.crypto): OAuth refresh token, if the provider issued one.';
COMMENT ON COLUMN users.external_id IS 'The user''s id at the OAuth provider.';

COMMENT ON TABLE accounts IS 'OAuth accounts linked to a user besides the one they signed in with.';
COMMENT ON COLUMN accounts.access_token IS
    'Encrypted (coding_agent_db.crypto): OAuth access token of the linked account.';
COMMENT ON COLUMN accounts.refresh_token IS
    'Encrypted (coding_agent_db.crypto): OAuth refresh token of the linked account.';
COMMENT ON COLUMN accounts.external_user_id IS 'The account''s user id at the provider.';

COMMENT ON TABLE keys IS 'Users'' API keys for AI providers, handed to agent runs.';
COMMENT ON COLUMN keys.value IS 'Encrypted (coding_agent_db.crypto): the API key.';

COMMENT ON TABLE tasks IS 'Coding tasks run by an agent in a sandbox.';
COMMENT ON COLUMN tasks.logs IS
    'JSON array of log entries {type, message, timestamp, agentSource?}, appended atomically.';
COMMENT ON COLUMN tasks.max_duration IS 'Sandbox time limit in minutes.';
COMMENT ON COLUMN tasks.mcp_server_ids IS 'JSON array of connectors(id) of the same user.';
COMMENT ON COLUMN tasks.sub_agent_activity IS
    'JSON array of sub-agent records {id, name, status, startedAt, completedAt?, description?}.';
COMMENT ON COLUMN tasks.last_heartbeat IS 'Last sign of life of the agent run.';
COMMENT ON COLUMN tasks.deleted_at IS 'Soft delete: set rows are hidden from every user-facing query.';

COMMENT ON TABLE task_messages IS 'Messages between a user and the agent of a task.';
COMMENT ON COLUMN task_messages.content IS
    'Agent replies start empty and grow by atomic appends while they stream.';

COMMENT ON TABLE connectors IS 'MCP servers configured by a user.';
COMMENT ON COLUMN connectors.command IS 'Local servers: the command line started in the sandbox.';
COMMENT ON COLUMN connectors.base_url IS 'Remote servers: the HTTP endpoint.';
COMMENT ON COLUMN connectors.oauth_client_secret IS
    'Encrypted (coding_agent_db.crypto): OAuth client secret of a remote server.';
COMMENT ON COLUMN connectors.env IS
    'Encrypted (coding_agent_db.crypto): JSON object of environment variables, encrypted whole.';

COMMENT ON TABLE settings IS 'Per-user key/value overrides of environment defaults.';

COMMENT ON TABLE api_tokens IS 'API tokens for programmatic access; raw tokens are never stored.';
COMMENT ON COLUMN api_tokens.token_hash IS 'SHA-256 (hex) of the raw token.';
COMMENT ON COLUMN api_tokens.token_prefix IS 'First characters of the raw token, for display.';
