"""Test fixtures: a real PostgreSQL, a fresh database per run, fresh users per test.

``TEST_POSTGRES_URL`` picks the server (any database on it: the suite creates
its own next to it); unset, an embedded PostgreSQL is started in a temporary
directory. The run's database is migrated with yoyo and dropped at the end;
with ``TEST_SCHEMA=hash-partitioned`` its tables are then hash-partitioned as
Citus would distribute them (tests/partitioning.py).
Tests stay independent by working on users of their own.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiosql
import psycopg
import pytest
from asyncpg.connection import LoggedQuery
from psycopg import sql

import coding_agent_db as cadb
from coding_agent_db.embedded import embedded_server
from coding_agent_db.migrate import apply_migrations
from coding_agent_db.sql import DirectAsyncpgAdapter
from tests.partitioning import hash_partitioned_run, partition_by_hash

checks: Any = aiosql.from_path(Path(__file__).parent / "queries", DirectAsyncpgAdapter)
"""Test-only raw SQL (tests/queries/checks.sql)."""

MakeUser = Callable[..., Awaitable[cadb.User]]


def database_url_for(server_url: str, database: str) -> str:
    """``server_url`` pointed at another database of the same server."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{database}"))


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server; returns its URL."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url_for(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name``, disconnecting whoever is still on it."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """An admin URL of the PostgreSQL server the run uses."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with (
        tempfile.TemporaryDirectory(prefix="cadb-test-") as tmp,
        embedded_server(Path(tmp) / "pgdata", keep_data=False) as url,
    ):
        yield url


FreshDatabase = Callable[..., str]


@pytest.fixture(scope="session")
def fresh_database(server_url: str) -> Iterator[FreshDatabase]:
    """A factory of new databases on the server (migrated unless ``migrated=False``).

    All of them are dropped at the end of the run.
    """
    created: list[str] = []

    def make(*, migrated: bool = True) -> str:
        name = f"cadb_test_{secrets.token_hex(6)}"
        url = create_database(server_url, name)
        created.append(name)
        if migrated:
            apply_migrations(url)
        return url

    yield make
    for name in created:
        drop_database(server_url, name)


@pytest.fixture(scope="session")
def encryption_key() -> str:
    """The run's ENCRYPTION_KEY."""
    return secrets.token_hex(32)


@pytest.fixture(scope="session", autouse=True)
async def database_url(fresh_database: FreshDatabase, encryption_key: str) -> AsyncIterator[str]:
    """The run's database, configured as POSTGRES_URL for the lazy pool.

    With ``TEST_SCHEMA=hash-partitioned`` every table is hash-partitioned by
    the column Citus would distribute it by (tests/partitioning.py).
    """
    url = fresh_database()
    if hash_partitioned_run():
        await partition_by_hash(url)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POSTGRES_URL", url)
        listen = os.environ.get("TEST_POSTGRES_LISTEN_URL")
        if listen:  # the server itself, when TEST_POSTGRES_URL is a pooler (push needs LISTEN)
            env.setenv("POSTGRES_LISTEN_URL", database_url_for(listen, urlsplit(url).path[1:]))
        env.setenv("ENCRYPTION_KEY", encryption_key)
        env.delenv("ENCRYPTION_KEYS_PREVIOUS", raising=False)
        env.delenv("ENCRYPTION_FORMAT", raising=False)
        env.delenv("MAX_MESSAGES_PER_DAY", raising=False)
        yield url
        cadb.close_listener()
        await cadb.close_pool()


@pytest.fixture(scope="session")
async def pooled(database_url: str) -> bool:
    """Whether the run goes through a transaction-mode pooler (CI's PgBouncer run)."""
    return (await cadb.check_pooling(database_url)).transaction_pooler


@pytest.fixture
async def conn() -> AsyncIterator[cadb.Connection]:
    """A pool connection held for the test, as a unit of work holds one."""
    async with cadb.connection() as held:
        yield held


@pytest.fixture
async def bulk_tasks(conn: cadb.Connection) -> AsyncIterator[cadb.Connection]:
    """``conn`` inside a transaction holding 100k tasks of 2000 users; rolled back after."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        count = await checks.insert_bulk_tasks(conn, user_count=2000, tasks_per_user=50)
        assert count == 100_000
        # Real users have settings too; on an empty table a sequential scan is cheapest.
        await checks.insert_bulk_settings(conn, user_count=2000)
        await checks.analyze_tables(conn)
        yield conn
    finally:
        await transaction.rollback()


@asynccontextmanager
async def recorded_queries(conn: cadb.Connection) -> AsyncIterator[list[str]]:
    """The statements sent on ``conn`` inside the block (asyncpg's query logger)."""
    sent: list[str] = []

    def record(logged: LoggedQuery) -> None:
        sent.append(logged.query)

    conn.add_query_logger(record)
    try:
        yield sent
        # asyncpg calls query loggers soon after each statement, not during it.
        await asyncio.sleep(0)
    finally:
        conn.remove_query_logger(record)


@pytest.fixture
def make_user() -> MakeUser:
    """Create a fresh user signed in with a random identity."""

    async def make(provider: str = "vercel", **profile: Any) -> cadb.User:
        identity = cadb.NewUser(
            provider=provider,  # type: ignore[arg-type]
            external_id=profile.pop("external_id", secrets.token_hex(8)),
            access_token=profile.pop("access_token", f"token-{secrets.token_hex(16)}"),
            username=profile.pop("username", "someone"),
            **profile,
        )
        return await cadb.upsert_user(identity)

    return make


@pytest.fixture
async def user(make_user: MakeUser) -> cadb.User:
    """A fresh user."""
    return await make_user()


@pytest.fixture
async def other_user(make_user: MakeUser) -> cadb.User:
    """Another fresh user, to check isolation against."""
    return await make_user()
