"""The queries of ``queries/*.sql``, loaded once by aiosql.

aiosql builds one method per ``-- name:`` block, checks the declared
parameters against the placeholders, and rewrites ``:name`` into asyncpg's
``$n``. The methods are created at load time, so ``queries`` is typed ``Any``:
the typed surface of this package is the table modules that call them.

Every statement starts with its query name, ``/* coding_agent_db:get_task */``
(sqlcommenter style), so ``pg_stat_statements``, ``pg_stat_activity`` and the
server's logs show which function sent it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import aiosql
from aiosql.adapters.asyncpg import AsyncPGAdapter

from coding_agent_db.paths import QUERIES_DIR

__all__ = ["queries", "statement_tag"]


class DirectAsyncpgAdapter(AsyncPGAdapter):
    """aiosql's asyncpg adapter without per-call probing.

    The stock adapter calls ``dir()`` on the client of every query to decide
    whether to acquire a connection from it. Here the client is always an
    asyncpg ``Connection`` or ``Pool``: both run ``fetch``/``fetchrow``/
    ``fetchval``/``execute`` themselves, so the adapter calls them directly.
    ``process_sql`` (``:name`` to ``$n``, numbered by first use) is inherited.
    """

    def _args(self, query_name: str, parameters: dict[str, Any]) -> list[Any]:
        # Queries are loaded with kwargs_only, so parameters is always a dict.
        return [parameters[name] for name in self.var_sorted[query_name]]

    async def select(
        self,
        conn: Any,
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> AsyncGenerator[Any, None]:
        for record in await conn.fetch(sql, *self._args(query_name, parameters)):
            yield record

    async def select_one(
        self,
        conn: Any,
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> Any:
        return await conn.fetchrow(sql, *self._args(query_name, parameters))

    async def select_value(self, conn: Any, query_name: str, sql: str, parameters: Any) -> Any:
        return await conn.fetchval(sql, *self._args(query_name, parameters))

    async def insert_update_delete(
        self, conn: Any, query_name: str, sql: str, parameters: Any
    ) -> Any:
        return await conn.execute(sql, *self._args(query_name, parameters))


class NamedAsyncpgAdapter(DirectAsyncpgAdapter):
    """``DirectAsyncpgAdapter`` that names each statement in a leading comment.

    The comment is added once, when aiosql loads the file, to the SQL text the
    query holds (``queries.get_task.sql``): calls send that same text, so it
    costs nothing per call and prepared statements are cached as before. It
    is leading, not trailing as sqlcommenter puts it, because
    ``pg_stat_activity`` cuts long statements at ``track_activity_query_size``.
    It is added after the ``:name`` rewrite, which would otherwise read
    ``:get_task`` as a parameter. Query names are word characters (aiosql's
    name pattern), so a name cannot close the comment early.
    """

    def process_sql(self, query_name: str, op_type: Any, sql: str) -> str:
        processed: str = super().process_sql(query_name, op_type, sql)  # type: ignore[no-untyped-call]
        return f"{statement_tag(query_name)}\n{processed}"


def statement_tag(query_name: str) -> str:
    """The comment that names a statement at the server: ``/* coding_agent_db:<name> */``."""
    return f"/* coding_agent_db:{query_name} */"


queries: Any = aiosql.from_path(QUERIES_DIR, NamedAsyncpgAdapter)
