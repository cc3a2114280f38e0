-- Undo 0014.create-patch-jsonb-element-function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';
-- Undoing this migration drops what it created:
-- squawk-ignore ban-drop-function
DROP FUNCTION jsonb_patch_element(jsonb, text, jsonb);
