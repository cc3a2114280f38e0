-- Undo 0014.create-patch-jsonb-element-function.
DROP FUNCTION jsonb_patch_element(jsonb, text, jsonb);
