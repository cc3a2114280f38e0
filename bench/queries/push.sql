-- make bench's push figures (bench/push.py): the notify trigger switched off
-- and on again, to price an append without it.

-- name: disable_notify#
-- Appends without their NOTIFY.
ALTER TABLE tasks DISABLE TRIGGER tasks_notify_change;

-- name: enable_notify#
-- Appends with their NOTIFY (as migrated).
ALTER TABLE tasks ENABLE TRIGGER tasks_notify_change;
