-- Rows per table, to show that adoption kept every one of them.
SELECT
    (SELECT count(*) FROM users) AS users,
    (SELECT count(*) FROM accounts) AS accounts,
    (SELECT count(*) FROM keys) AS keys,
    (SELECT count(*) FROM tasks) AS tasks,
    (SELECT count(*) FROM task_messages) AS task_messages,
    (SELECT count(*) FROM connectors) AS connectors,
    (SELECT count(*) FROM settings) AS settings,
    (SELECT count(*) FROM api_tokens) AS api_tokens;
