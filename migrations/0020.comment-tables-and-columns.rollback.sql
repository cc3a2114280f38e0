-- Undo 0020.comment-tables-and-columns: the comments of 0001-0010 again,
-- none where there were none.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';

COMMENT ON TABLE users IS 'People who signed in; (provider, external_id) is the sign-in identity.';
COMMENT ON COLUMN users.provider IS NULL;
COMMENT ON COLUMN users.external_id IS 'The user''s id at the OAuth provider.';
COMMENT ON COLUMN users.access_token IS
'Encrypted (coding_agent_db.crypto): OAuth access token of the sign-in provider.';
COMMENT ON COLUMN users.refresh_token IS
'Encrypted (coding_agent_db.crypto): OAuth refresh token, if the provider issued one.';
COMMENT ON COLUMN users.scope IS NULL;
COMMENT ON COLUMN users.username IS NULL;
COMMENT ON COLUMN users.email IS NULL;
COMMENT ON COLUMN users.name IS NULL;
COMMENT ON COLUMN users.avatar_url IS NULL;
COMMENT ON COLUMN users.last_login_at IS NULL;
COMMENT ON COLUMN accounts.provider IS NULL;
COMMENT ON COLUMN accounts.access_token IS
'Encrypted (coding_agent_db.crypto): OAuth access token of the linked account.';
COMMENT ON COLUMN accounts.refresh_token IS
'Encrypted (coding_agent_db.crypto): OAuth refresh token of the linked account.';
COMMENT ON COLUMN accounts.expires_at IS NULL;
COMMENT ON COLUMN accounts.scope IS NULL;
COMMENT ON COLUMN accounts.username IS NULL;
COMMENT ON COLUMN keys.provider IS NULL;
COMMENT ON COLUMN keys.value IS 'Encrypted (coding_agent_db.crypto): the API key.';
COMMENT ON TABLE tasks IS 'Coding tasks run by an agent in a sandbox.';
COMMENT ON COLUMN tasks.prompt IS NULL;
COMMENT ON COLUMN tasks.title IS NULL;
COMMENT ON COLUMN tasks.repo_url IS NULL;
COMMENT ON COLUMN tasks.selected_agent IS NULL;
COMMENT ON COLUMN tasks.selected_model IS NULL;
COMMENT ON COLUMN tasks.install_dependencies IS NULL;
COMMENT ON COLUMN tasks.max_duration IS 'Sandbox time limit in minutes.';
COMMENT ON COLUMN tasks.keep_alive IS NULL;
COMMENT ON COLUMN tasks.enable_browser IS NULL;
COMMENT ON COLUMN tasks.status IS NULL;
COMMENT ON COLUMN tasks.progress IS NULL;
COMMENT ON COLUMN tasks.logs IS
'JSON array of log entries {type, message, timestamp, agentSource?}, appended atomically.';
COMMENT ON COLUMN tasks.error IS NULL;
COMMENT ON COLUMN tasks.branch_name IS NULL;
COMMENT ON COLUMN tasks.source_branch IS NULL;
COMMENT ON COLUMN tasks.sandbox_id IS NULL;
COMMENT ON COLUMN tasks.agent_session_id IS NULL;
COMMENT ON COLUMN tasks.sandbox_url IS NULL;
COMMENT ON COLUMN tasks.preview_url IS NULL;
COMMENT ON COLUMN tasks.pr_url IS NULL;
COMMENT ON COLUMN tasks.pr_number IS NULL;
COMMENT ON COLUMN tasks.pr_status IS NULL;
COMMENT ON COLUMN tasks.pr_merge_commit_sha IS NULL;
COMMENT ON COLUMN tasks.mcp_server_ids IS 'JSON array of connectors(id) of the same user.';
COMMENT ON COLUMN tasks.sub_agent_activity IS
'JSON array of sub-agent records {id, name, status, startedAt, completedAt?, description?}.';
COMMENT ON COLUMN tasks.current_sub_agent IS NULL;
COMMENT ON COLUMN tasks.last_heartbeat IS 'Last sign of life of the agent run.';
COMMENT ON COLUMN tasks.completed_at IS NULL;
COMMENT ON COLUMN tasks.deleted_at IS
'Soft delete: set rows are hidden from every user-facing query.';
COMMENT ON COLUMN task_messages.task_id IS NULL;
COMMENT ON COLUMN task_messages.role IS NULL;
COMMENT ON COLUMN task_messages.content IS
'Agent replies start empty and grow by atomic appends while they stream.';
COMMENT ON TABLE connectors IS 'MCP servers configured by a user.';
COMMENT ON COLUMN connectors.name IS NULL;
COMMENT ON COLUMN connectors.description IS NULL;
COMMENT ON COLUMN connectors.type IS NULL;
COMMENT ON COLUMN connectors.oauth_client_id IS NULL;
COMMENT ON COLUMN connectors.oauth_client_secret IS
'Encrypted (coding_agent_db.crypto): OAuth client secret of a remote server.';
COMMENT ON COLUMN connectors.env IS
'Encrypted (coding_agent_db.crypto): JSON object of environment variables, encrypted whole.';
COMMENT ON COLUMN connectors.status IS NULL;
COMMENT ON COLUMN settings.key IS NULL;
COMMENT ON COLUMN settings.value IS NULL;
COMMENT ON COLUMN api_tokens.name IS NULL;
COMMENT ON COLUMN api_tokens.last_used_at IS NULL;
COMMENT ON COLUMN api_tokens.expires_at IS NULL;
COMMENT ON COLUMN daily_usage.used IS NULL;
COMMENT ON COLUMN daily_usage.resets_at IS NULL;
