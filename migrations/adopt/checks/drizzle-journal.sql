-- How many of the app's migrations drizzle's journal records; run only when
-- detect.sql found the journal (a database restored without the drizzle
-- schema has none).
SELECT count(*) AS drizzle_migrations
FROM drizzle.__drizzle_migrations;
