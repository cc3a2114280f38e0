-- drizzle's api_tokens_user_id_idx is replaced by the package's
-- api_tokens_user_id_created_at_idx (step 20), which serves the same lookups.
-- lock: SHARE UPDATE EXCLUSIVE on api_tokens (writes continue)
-- scans: none
-- rewrites: none
-- transactional: false

DROP INDEX CONCURRENTLY IF EXISTS api_tokens_user_id_idx;
