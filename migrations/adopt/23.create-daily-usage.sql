-- The daily_usage view and the lock_daily_usage function: this step drops
-- what a previous, interrupted run may have created, then runs the package's
-- own migrations 0009 and 0010 unchanged (named below, read by the adopt
-- module), all in one transaction.
-- lock: ACCESS EXCLUSIVE on daily_usage (a view; no table is locked)
-- scans: none
-- rewrites: none
-- then: 0009.create-daily-usage-view.sql 0010.create-lock-daily-usage-function.sql

SET LOCAL lock_timeout = '5s';

DROP FUNCTION IF EXISTS lock_daily_usage(text);

DROP VIEW IF EXISTS daily_usage;
