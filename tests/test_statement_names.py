"""Every statement the package sends is named at the server: ``/* coding_agent_db:<query> */``."""

from __future__ import annotations

import asyncio

import coding_agent_db as cadb
from coding_agent_db.sql import queries, statement_tag
from tests.conftest import checks, recorded_queries


def test_every_loaded_query_starts_with_its_name() -> None:
    # aiosql also lists a <name>_cursor variant of each query, sending the same text.
    names = [name for name in queries.available_queries if not name.endswith("_cursor")]
    assert names
    for name in names:
        sql: str = getattr(queries, name).sql
        assert sql.startswith(f"/* coding_agent_db:{name} */\n"), name
        # The tag is a comment: nothing after it can reopen or close it.
        assert sql.count("*/") == 1, name


async def test_statements_are_sent_named_and_stay_prepared(
    user: cadb.User, conn: cadb.Connection, pooled: bool
) -> None:
    async with recorded_queries(conn) as sent:
        await cadb.list_tasks(user_id=user.id, conn=conn)
        await cadb.list_tasks(user_id=user.id, conn=conn)
    assert sent == [queries.list_tasks.sql] * 2
    assert sent[0].startswith(statement_tag("list_tasks"))
    # With asyncpg's statement cache on (the default), the session prepared the named
    # text once and reused it. Behind a transaction-mode pooler the cache is off: each
    # call is an unnamed statement, which the server keeps for no one.
    prepared = [row["statement"] async for row in checks.list_prepared_statements(conn)]
    assert prepared.count(sent[0]) == (0 if pooled else 1)


async def test_a_blocked_call_shows_its_query_name_in_pg_stat_activity(
    user: cadb.User, conn: cadb.Connection
) -> None:
    task = cadb.NewTask(prompt="wait for the lock")
    async with conn.transaction():
        # Hold the user's row: create_task locks it first (lock_daily_usage) and waits.
        await checks.lock_user_row(conn, user_id=user.id)
        call = asyncio.create_task(cadb.create_task(user_id=user.id, task=task))
        waiting: list[str] = []
        async with asyncio.timeout(10):
            while not waiting:
                await asyncio.sleep(0.05)
                waiting = [row["query"] async for row in checks.list_lock_waits(conn)]
                assert not call.done(), call
    created = await asyncio.wait_for(call, 10)
    assert created.prompt == "wait for the lock"
    assert len(waiting) == 1
    assert waiting[0].startswith("/* coding_agent_db:create_task */\n")
