-- Undo 0052.validate-task-foreign-keys: nothing to undo. A validated foreign
-- key checks new rows as an unvalidated one does; 0051's rollback replaces
-- them.
SET LOCAL lock_timeout = '5s';
