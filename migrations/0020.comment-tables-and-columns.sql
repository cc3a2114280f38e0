-- Comments for a DBA: every table and view, and every column whose meaning
-- its name does not tell, says what it holds in the catalog (\d+ in psql).
-- Encrypted columns name their format; JSONB columns name their shape.
-- tests/test_comments.py fails when a new column comes without one.
-- depends: 0010.create-lock-daily-usage-function

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

-- users
COMMENT ON TABLE users IS
'People who signed in; (provider, external_id) is the sign-in identity. Every other table hangs off users(id), ON DELETE CASCADE.';
COMMENT ON COLUMN users.provider IS 'OAuth provider the user signed in with: github or vercel.';
COMMENT ON COLUMN users.external_id IS 'The user''s id at the OAuth provider.';
COMMENT ON COLUMN users.access_token IS
'Encrypted (coding_agent_db.crypto): OAuth access token of the sign-in provider. Format v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM), or legacy <iv hex>:<ciphertext hex> (AES-256-CBC, written by the TypeScript app).';
COMMENT ON COLUMN users.refresh_token IS
'Encrypted (coding_agent_db.crypto): OAuth refresh token, if the provider issued one. Format v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM), or legacy <iv hex>:<ciphertext hex> (AES-256-CBC).';
COMMENT ON COLUMN users.scope IS 'OAuth scopes granted at sign-in, as the provider returned them.';
COMMENT ON COLUMN users.username IS 'Login name at the provider (GitHub or Vercel username).';
COMMENT ON COLUMN users.email IS 'E-mail address the provider returned, if any.';
COMMENT ON COLUMN users.name IS 'Display name the provider returned, if any.';
COMMENT ON COLUMN users.avatar_url IS 'Profile picture URL at the provider.';
COMMENT ON COLUMN users.last_login_at IS 'Time of the latest sign-in.';

-- accounts
COMMENT ON COLUMN accounts.provider IS 'Provider of the linked account: github (the only one so far).';
COMMENT ON COLUMN accounts.access_token IS
'Encrypted (coding_agent_db.crypto): OAuth access token of the linked account. Format v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM), or legacy <iv hex>:<ciphertext hex> (AES-256-CBC).';
COMMENT ON COLUMN accounts.refresh_token IS
'Encrypted (coding_agent_db.crypto): OAuth refresh token of the linked account. Format v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM), or legacy <iv hex>:<ciphertext hex> (AES-256-CBC).';
COMMENT ON COLUMN accounts.expires_at IS 'When access_token expires, if the provider said.';
COMMENT ON COLUMN accounts.scope IS 'OAuth scopes granted to the linked account.';
COMMENT ON COLUMN accounts.username IS 'Login name of the linked account at the provider.';

-- keys
COMMENT ON COLUMN keys.provider IS
'AI provider the key is for: anthropic, openai, cursor, gemini, aigateway or github.';
COMMENT ON COLUMN keys.value IS
'Encrypted (coding_agent_db.crypto): the API key. Format v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM), or legacy <iv hex>:<ciphertext hex> (AES-256-CBC).';

-- tasks
COMMENT ON TABLE tasks IS
'Coding tasks run by an agent in a sandbox, with their streamed log. Soft-deleted rows (deleted_at set) stay until purged.';
COMMENT ON COLUMN tasks.prompt IS 'What the user asked the agent to do.';
COMMENT ON COLUMN tasks.title IS 'Short title, generated from the prompt after creation.';
COMMENT ON COLUMN tasks.repo_url IS 'URL of the Git repository the agent works on.';
COMMENT ON COLUMN tasks.selected_agent IS
'Coding agent that runs the task: claude, codex, copilot, cursor, gemini or opencode.';
COMMENT ON COLUMN tasks.selected_model IS 'Model the agent is asked to use; null: the agent''s default.';
COMMENT ON COLUMN tasks.install_dependencies IS 'Whether the sandbox installs the repository''s dependencies first.';
COMMENT ON COLUMN tasks.max_duration IS 'Sandbox time limit in minutes.';
COMMENT ON COLUMN tasks.keep_alive IS 'Whether the sandbox stays up after the agent finishes.';
COMMENT ON COLUMN tasks.enable_browser IS 'Whether the sandbox gets a browser for the agent.';
COMMENT ON COLUMN tasks.status IS 'Lifecycle: pending, processing, then completed, error or stopped.';
COMMENT ON COLUMN tasks.progress IS 'Percent done, 0-100, as the agent reports it.';
COMMENT ON COLUMN tasks.logs IS
'JSONB array of log entries {type: info|command|error|success|subagent, message, timestamp, agentSource?: {name, isSubAgent?, parentAgent?, subAgentId?}}, appended atomically (logs || new entries).';
COMMENT ON COLUMN tasks.error IS 'Error message when status is error.';
COMMENT ON COLUMN tasks.branch_name IS 'Git branch the agent pushes its work to.';
COMMENT ON COLUMN tasks.source_branch IS 'Git branch the work starts from.';
COMMENT ON COLUMN tasks.sandbox_id IS 'Id of the sandbox (Vercel Sandbox) running the task.';
COMMENT ON COLUMN tasks.agent_session_id IS 'Session id of the agent CLI, to resume the conversation.';
COMMENT ON COLUMN tasks.sandbox_url IS 'URL of the running sandbox.';
COMMENT ON COLUMN tasks.preview_url IS 'URL of a preview deployment of the work, if any.';
COMMENT ON COLUMN tasks.pr_url IS 'URL of the pull request opened for the work.';
COMMENT ON COLUMN tasks.pr_number IS 'Number of that pull request in its repository.';
COMMENT ON COLUMN tasks.pr_status IS 'State of that pull request: open, closed or merged.';
COMMENT ON COLUMN tasks.pr_merge_commit_sha IS 'Merge commit of the pull request once merged.';
COMMENT ON COLUMN tasks.mcp_server_ids IS
'JSONB array of strings: ids of connectors (MCP servers) of the same user the agent may use.';
COMMENT ON COLUMN tasks.sub_agent_activity IS
'JSONB array of sub-agent records {id, name, status: running|completed|error, parentAgent?, description?, startedAt?, completedAt?}.';
COMMENT ON COLUMN tasks.current_sub_agent IS 'Name of the sub-agent running now, if any.';
COMMENT ON COLUMN tasks.last_heartbeat IS 'Last sign of life of the agent run.';
COMMENT ON COLUMN tasks.completed_at IS 'When the task reached completed, error or stopped.';
COMMENT ON COLUMN tasks.deleted_at IS
'Soft delete: rows with it set are hidden from every user-facing query and purged later.';

-- task_messages
COMMENT ON COLUMN task_messages.task_id IS 'The task, referenced with its owner: (user_id, task_id) -> tasks(user_id, id).';
COMMENT ON COLUMN task_messages.role IS 'Who wrote it: user or agent. User messages count towards the daily limit.';
COMMENT ON COLUMN task_messages.content IS
'Message text. Agent replies start empty and grow by atomic appends while they stream.';

-- connectors
COMMENT ON TABLE connectors IS
'MCP servers configured by a user: local (a command run in the sandbox) or remote (an HTTP endpoint).';
COMMENT ON COLUMN connectors.name IS 'Display name of the MCP server.';
COMMENT ON COLUMN connectors.description IS 'What the server offers, as the user wrote it.';
COMMENT ON COLUMN connectors.type IS 'local (command) or remote (base_url).';
COMMENT ON COLUMN connectors.oauth_client_id IS 'Remote servers: OAuth client id, if the server needs one.';
COMMENT ON COLUMN connectors.oauth_client_secret IS
'Encrypted (coding_agent_db.crypto): OAuth client secret of a remote server. Format v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM), or legacy <iv hex>:<ciphertext hex> (AES-256-CBC).';
COMMENT ON COLUMN connectors.env IS
'Encrypted (coding_agent_db.crypto): JSON object {NAME: value} of environment variables, encrypted whole. Format v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM), or legacy <iv hex>:<ciphertext hex> (AES-256-CBC).';
COMMENT ON COLUMN connectors.status IS 'connected or disconnected, as the app last saw it.';

-- settings
COMMENT ON COLUMN settings.key IS 'Name of the overridden default, e.g. maxMessagesPerDay.';
COMMENT ON COLUMN settings.value IS 'The override, as text (maxMessagesPerDay: a whole number).';

-- api_tokens
COMMENT ON COLUMN api_tokens.name IS 'Label the user gave the token.';
COMMENT ON COLUMN api_tokens.last_used_at IS 'Last successful authentication with the token.';
COMMENT ON COLUMN api_tokens.expires_at IS 'After this the token no longer authenticates; null: never expires.';

-- daily_usage (view)
COMMENT ON COLUMN daily_usage.used IS
'Tasks created today (UTC) plus user messages sent today, on tasks that are not soft-deleted.';
COMMENT ON COLUMN daily_usage.resets_at IS 'Next UTC midnight, when used starts again from zero.';
