-- Undo 0008.create-api-tokens.
DROP TABLE api_tokens;
