-- What dev/sql_review.py puts before each query of queries/: run the query and
-- return its plan as run, with row counts, times and buffer counts, as JSON
-- (the flags are read from it; the report renders it as text). Not linted
-- (.sqlfluffignore): it is the head of a statement, not one.
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
