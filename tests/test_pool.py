"""The lazy pool: configuration, event-loop binding, and what a release costs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from tests.conftest import checks


@pytest.fixture
async def fresh_pool_state() -> AsyncIterator[None]:
    """Close the singleton before and after a test that reconfigures it."""
    await cadb.close_pool()
    yield
    await cadb.close_pool()


Reconfigure = Callable[..., Awaitable[None]]


@pytest.fixture
def reconfigure(monkeypatch: pytest.MonkeyPatch, fresh_pool_state: None) -> Reconfigure:
    """Set environment variables, then drop the pool so the next use reads them."""

    async def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        await cadb.close_pool()

    return apply


@pytest.fixture
def no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in an empty directory, so no .env.local/.env is read."""
    monkeypatch.chdir(tmp_path)


async def test_two_first_callers_share_one_lazily_created_pool(fresh_pool_state: None) -> None:
    first, second = await asyncio.gather(cadb.get_pool(), cadb.get_pool())
    assert first is second
    assert await cadb.get_pool() is first


async def test_close_pool_closes_it_and_the_next_use_opens_a_new_one(
    fresh_pool_state: None, user: cadb.User
) -> None:
    pool = await cadb.get_pool()
    await cadb.close_pool()
    assert pool.is_closing()
    assert await cadb.get_user(user_id=user.id) == user
    assert await cadb.get_pool() is not pool


@pytest.mark.usefixtures("fresh_pool_state", "no_dotenv")
async def test_missing_postgres_url_raises_configuration_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POSTGRES_URL")
    with pytest.raises(cadb.ConfigurationError, match="POSTGRES_URL is not set"):
        await cadb.get_pool()


@pytest.mark.usefixtures("fresh_pool_state", "no_dotenv")
@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://root:hunter2@localhost/db",
        "postgresql://app:hunter2@localhost:notaport/db",
        "postgresql:///db",
    ],
)
async def test_malformed_postgres_url_raises_configuration_error_without_the_url(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("POSTGRES_URL", url)
    with pytest.raises(cadb.ConfigurationError, match="POSTGRES_URL") as raised:
        await cadb.get_pool()
    assert "hunter2" not in str(raised.value)


@pytest.mark.usefixtures("fresh_pool_state")
async def test_postgres_url_is_read_from_dotenv_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str, user: cadb.User
) -> None:
    (tmp_path / ".env").write_text("POSTGRES_URL=postgresql://nobody@invalid.invalid/none\n")
    (tmp_path / ".env.local").write_text(f"POSTGRES_URL={database_url}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POSTGRES_URL")
    assert await cadb.get_user(user_id=user.id) == user  # .env.local wins over .env


async def test_malformed_pool_size_raises_configuration_error_naming_it(
    reconfigure: Reconfigure,
) -> None:
    await reconfigure(POSTGRES_POOL_MAX="ten")
    with pytest.raises(cadb.ConfigurationError, match="POSTGRES_POOL_MAX"):
        await cadb.get_pool()


async def test_a_second_asyncio_run_in_the_same_process_gets_a_working_pool(
    user: cadb.User,
) -> None:
    results: list[Any] = []

    async def unit_of_work() -> tuple[cadb.User | None, asyncpg.Pool[asyncpg.Record]]:
        return await cadb.get_user(user_id=user.id), await cadb.get_pool()

    def two_runs() -> None:
        # A thread has no running loop, so asyncio.run() may be called in it.
        results.append(asyncio.run(unit_of_work()))
        results.append(asyncio.run(unit_of_work()))

    thread = threading.Thread(target=two_runs)
    thread.start()
    await asyncio.to_thread(thread.join)
    assert [found for found, _ in results] == [user, user]
    assert results[0][1] is not results[1][1]
    assert results[1][1] is not await cadb.get_pool()


async def _queries_logged_by_a_release(pool: asyncpg.Pool[asyncpg.Record]) -> list[str]:
    logged: list[str] = []
    async with pool.acquire() as held:
        # Registered on the connection behind the proxy, so it outlives the release.
        held.add_query_logger(lambda record: logged.append(record.query))
    return logged


async def test_releasing_a_connection_costs_no_round_trip(
    reconfigure: Reconfigure, database_url: str
) -> None:
    await reconfigure(POSTGRES_POOL_MAX="1")
    stock = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    ours = await cadb.create_pool()
    try:
        # asyncpg's stock pool sends its reset query on every release ...
        assert await _queries_logged_by_a_release(stock) != []
        # ... ours sends nothing.
        assert await _queries_logged_by_a_release(ours) == []
    finally:
        await stock.close()
        await ours.close()


async def test_no_session_state_leaks_to_the_next_unit_of_work(reconfigure: Reconfigure) -> None:
    await reconfigure(POSTGRES_POOL_MAX="1")  # the next unit of work gets the same connection
    async with cadb.connection() as conn:
        before = await checks.get_current_setting(conn, name="statement_timeout")
    async with cadb.transaction() as tx:
        await checks.set_local_setting(tx, name="statement_timeout", value="1234ms")
        assert await checks.get_current_setting(tx, name="statement_timeout") == "1234ms"
    async with cadb.connection() as conn:
        assert await checks.get_current_setting(conn, name="statement_timeout") == before


async def test_a_transaction_left_open_is_rolled_back_on_release(
    reconfigure: Reconfigure, user: cadb.User
) -> None:
    await reconfigure(POSTGRES_POOL_MAX="1")
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        async with cadb.connection() as conn:
            await conn.transaction().start()
            await checks.insert_raw_setting(conn, id=new_id(), user_id=user.id, key="left-open")
    finally:
        loop.set_exception_handler(previous)
    assert "active transaction" in reported[0]["message"]
    async with cadb.connection() as conn:
        assert not conn.is_in_transaction()
        assert await checks.count_settings(conn, user_id=user.id) == 0


@pytest.mark.parametrize(("cache_size", "named_statements"), [("100", True), ("0", False)])
async def test_statement_cache_size_comes_from_env_and_zero_works(
    reconfigure: Reconfigure, user: cadb.User, cache_size: str, named_statements: bool, pooled: bool
) -> None:
    # 0 is what a transaction-mode pooler (pgbouncer) needs: no named statements;
    # a detected pooler switches them off whatever the variable says.
    named_statements = named_statements and not pooled
    await reconfigure(POSTGRES_STATEMENT_CACHE_SIZE=cache_size, POSTGRES_POOL_MAX="1")
    async with cadb.connection() as conn:
        task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
        for _ in range(3):
            assert await cadb.get_task(user_id=user.id, task_id=task.id, conn=conn) == task
        assert (await checks.count_prepared_statements(conn) > 0) is named_statements


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POSTGRES_POOLER", "sometimes"),
        ("POSTGRES_LOCK_TIMEOUT", "five"),
        ("POSTGRES_STATEMENT_TIMEOUT", "-1"),
        ("POSTGRES_ACQUIRE_TIMEOUT", "nan"),
        ("POSTGRES_CONNECT_TIMEOUT", "0"),
    ],
)
async def test_malformed_connection_settings_raise_configuration_error_naming_them(
    reconfigure: Reconfigure, name: str, value: str
) -> None:
    await reconfigure(**{name: value})
    with pytest.raises(cadb.ConfigurationError, match=name):
        await cadb.get_pool()


async def test_statements_are_named_per_connection_not_per_process(
    reconfigure: Reconfigure, user: cadb.User, pooled: bool
) -> None:
    # Two connections of one process: asyncpg alone would give both the same names.
    await reconfigure(POSTGRES_POOL_MIN="2", POSTGRES_POOL_MAX="2")
    names: list[set[str]] = []
    async with cadb.connection() as first, cadb.connection() as second:
        for conn in (first, second):
            assert await cadb.get_user(user_id=user.id, conn=conn) == user
            rows = checks.list_prepared_statement_names(conn)
            names.append({row["name"] async for row in rows})
    if pooled:  # unnamed statements only (the servers may hold other clients' names)
        assert not any(name.startswith("__cadb_") for name in names[0] | names[1])
    else:
        assert all(name.startswith("__cadb_stmt_") for name in names[0] | names[1])
        assert names[0]
        assert names[1]
        assert not names[0] & names[1]


async def test_a_configured_transaction_pooler_switches_named_statements_off(
    reconfigure: Reconfigure, user: cadb.User
) -> None:
    await reconfigure(POSTGRES_POOLER="transaction", POSTGRES_POOL_MAX="1")
    report = await cadb.check_pooling()
    assert (report.pooler_detected, report.transaction_pooler, report.statement_cache) == (
        None,
        True,
        False,
    )
    async with cadb.connection() as conn:
        assert await cadb.get_user(user_id=user.id, conn=conn) == user
        assert await checks.count_prepared_statements(conn) == 0
