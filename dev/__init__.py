"""Tools for reviewing the SQL: the migration lint (``make lint``), the plan report
(``make sql-review``)."""
