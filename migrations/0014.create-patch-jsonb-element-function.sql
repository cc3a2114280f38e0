-- Sub-agents report one at a time and at once: each start, update and
-- completion changes one element of tasks.sub_agent_activity, found by its
-- "id", with a jsonb path update inside the UPDATE statement (the row lock
-- orders concurrent updates, and each sees the others' elements). This
-- function is that update: the array with the element whose "id" is p_id
-- merged with p_patch, unchanged when there is no such element.
-- depends: 0004.create-tasks

SET LOCAL lock_timeout = '5s';

CREATE FUNCTION jsonb_patch_element(p_array jsonb, p_id text, p_patch jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT COALESCE(
        (
            SELECT jsonb_set(
                p_array,
                ARRAY[(element.position - 1)::text],
                element.value || p_patch
            )
            FROM jsonb_array_elements(p_array) WITH ORDINALITY AS element (value, position)
            WHERE element.value ->> 'id' = p_id
            ORDER BY element.position
            LIMIT 1
        ),
        p_array
    )
$$;

COMMENT ON FUNCTION jsonb_patch_element(jsonb, text, jsonb) IS
    'The array with the element whose "id" is p_id merged with p_patch (unchanged if none).';
