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

import time
from collections.abc import AsyncGenerator
from typing import Any

import aiosql
import asyncpg
from aiosql.adapters.asyncpg import AsyncPGAdapter

from coding_agent_db import deadline
from coding_agent_db.errors import DatabaseTimeoutError, DatabaseUnavailableError
from coding_agent_db.paths import QUERIES_DIR
from coding_agent_db.pool import Profile, acquire, package_error, profile_of, release

__all__ = ["LOCKING_READS", "READ_PREFIXES", "is_read", "queries", "run_statement", "statement_tag"]

READ_PREFIXES = ("get_", "list_", "count_")
"""Queries named like this only read (a contract test checks their SQL): they
may run twice, so one that lost its connection is retried once."""

LOCKING_READS = frozenset(
    {
        "list_user_secrets",
        "list_account_secrets",
        "list_key_secrets",
        "list_connector_secrets",
        "list_movable_keys",
        "list_movable_connectors",
    }
)
"""Reads that lock the rows they return (key rotation, account merge): never retried."""


def is_read(query_name: str) -> bool:
    """Whether the query only reads, so running it again is harmless."""
    return query_name.startswith(READ_PREFIXES) and query_name not in LOCKING_READS


async def _bounded(conn: Any, query_name: str, method: str, sql: str, args: list[Any]) -> Any:
    """Run one statement on a connection within the profile's client bound.

    Directly on PostgreSQL the bound is a deadline for a server that stopped
    answering, kept by the event loop's watcher (``deadline``: no timer per
    statement). Behind a pooler it is the statement timeout, which the client
    enforces with asyncpg's own ``timeout`` (a cancel request goes to the
    server). Either way, when it runs out the connection is dropped and
    DatabaseTimeoutError is raised.
    """
    profile = profile_of(conn)
    limit = profile.client_timeout
    if limit is None or profile.transaction_pooler:
        return await _timed(conn, query_name, method, sql, args, profile, limit)
    watcher = deadline.watch()
    watcher.start(conn, limit)
    try:
        return await getattr(conn, method)(sql, *args)
    except Exception as exc:
        if watcher.finish(conn):
            raise DatabaseTimeoutError(
                profile.client_timeout_means, statement=query_name, seconds=limit
            ) from exc
        raise package_error(exc, query_name, profile)  # noqa: B904 - its __cause__ is set
    finally:
        watcher.finish(conn)  # answered, failed or cancelled: no longer waited for


async def _timed(
    conn: Any,
    query_name: str,
    method: str,
    sql: str,
    args: list[Any],
    profile: Profile,
    limit: float | None,
) -> Any:
    """``_bounded`` behind a pooler, or unbounded: asyncpg's ``timeout``, then a drop."""
    started = time.monotonic()
    try:
        return await getattr(conn, method)(sql, *args, timeout=limit)
    except Exception as exc:
        # Only asyncpg's bound, not a socket's ETIMEDOUT, is a timeout of ours.
        if (
            isinstance(exc, TimeoutError)
            and limit is not None
            and time.monotonic() - started >= limit
        ):
            conn.terminate()
            raise DatabaseTimeoutError(
                profile.client_timeout_means, statement=query_name, seconds=limit
            ) from exc
        raise package_error(exc, query_name, profile)  # noqa: B904 - its __cause__ is set


async def run_statement(conn: Any, query_name: str, method: str, sql: str, args: list[Any]) -> Any:
    """Run one statement of ``queries/``: bounded, with package errors, reads retried once.

    The single path every query takes (the translation point of connection
    failures). With a pool the statement takes a connection for itself; a
    read that fails because that connection died is retried once on a fresh
    one. Writes, and anything on a caller's connection (maybe inside their
    transaction), are never retried.
    """
    if not isinstance(conn, asyncpg.Pool):
        return await _bounded(conn, query_name, method, sql, args)
    retry = is_read(query_name)
    while True:
        held = await acquire(conn, query_name)
        try:
            return await _bounded(held, query_name, method, sql, args)
        except DatabaseUnavailableError:
            if not retry:
                raise
            retry = False
            # The other idle connections likely died with this one (a server
            # restart, killed backends): replace them all.
            await conn.expire_connections()
        finally:
            await release(conn, held, query_name)


class DirectAsyncpgAdapter(AsyncPGAdapter):
    """aiosql's asyncpg adapter without per-call probing.

    The stock adapter calls ``dir()`` on the client of every query to decide
    whether to acquire a connection from it. Here the client is always an
    asyncpg ``Connection`` or ``Pool``: both run ``fetch``/``fetchrow``/
    ``fetchval``/``execute`` themselves, so the adapter calls them directly.
    ``process_sql`` (``:name`` to ``$n``, numbered by first use) is inherited.
    Every statement goes through ``run_statement``.
    """

    def _args(self, query_name: str, parameters: dict[str, Any]) -> list[Any]:
        # Queries are loaded with kwargs_only, so parameters is always a dict.
        return [parameters[name] for name in self.var_sorted[query_name]]

    async def _run(self, conn: Any, method: str, query_name: str, sql: str, parameters: Any) -> Any:
        arguments = self._args(query_name, parameters)
        return await run_statement(conn, query_name, method, sql, arguments)

    async def select(
        self,
        conn: Any,
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> AsyncGenerator[Any, None]:
        for record in await self._run(conn, "fetch", query_name, sql, parameters):
            yield record

    async def select_one(
        self,
        conn: Any,
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> Any:
        return await self._run(conn, "fetchrow", query_name, sql, parameters)

    async def select_value(self, conn: Any, query_name: str, sql: str, parameters: Any) -> Any:
        return await self._run(conn, "fetchval", query_name, sql, parameters)

    async def insert_update_delete(
        self, conn: Any, query_name: str, sql: str, parameters: Any
    ) -> Any:
        return await self._run(conn, "execute", query_name, sql, parameters)


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
