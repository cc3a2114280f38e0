"""The paged log (migrations 0040-0041): tasks.logs holds the open page, task_log_pages the rest.

Every read joins them back, so what the API returns is what it returned when
the log was one array: the same entries, in the same order, at the same
indexes. These tests cross page boundaries (100 entries) on purpose.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import asyncpg
import msgspec
import pytest

import coding_agent_db as cadb
from coding_agent_db.migrate import apply_pending, migration_state, rollback_latest
from coding_agent_db.sql import queries
from tests.conftest import FreshDatabase, checks

PAGE = 100


def info(message: str) -> cadb.LogEntry:
    return cadb.LogEntry(type="info", message=message)


def messages(entries: list[cadb.LogEntry] | None) -> list[str]:
    assert entries is not None
    return [entry.message for entry in entries]


async def new_task(user: cadb.User, conn: cadb.Connection) -> cadb.Task:
    await cadb.set_setting(user_id=user.id, key="maxMessagesPerDay", value="1000", conn=conn)
    return await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="run"), conn=conn)


async def whole_log(user: cadb.User, task_id: str, conn: cadb.Connection) -> list[str]:
    task = await cadb.get_task(user_id=user.id, task_id=task_id, conn=conn)
    assert task is not None
    return messages(task.logs)


async def assert_paged(conn: cadb.Connection, task_id: str, length: int) -> None:
    """The log is stored as full sealed pages and an open page of 1 to 100 entries."""
    shape = await checks.get_raw_log_shape(conn, task_id=task_id)
    sealed = (length - 1) // PAGE * PAGE
    assert shape["logs_offset"] == sealed
    assert shape["open_length"] == length - sealed
    assert shape["first_indexes"] == list(range(0, sealed, PAGE))
    assert shape["page_lengths"] == [PAGE] * (sealed // PAGE)


async def test_100_concurrent_appends_across_page_boundaries_keep_order_and_indexes(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user, conn)
    await cadb.append_task_logs(
        user_id=user.id, task_id=task.id, entries=[info(f"seed {n}") for n in range(95)], conn=conn
    )
    batches = [[info(f"batch {b} line {n}") for n in range(7)] for b in range(100)]

    lengths = await asyncio.gather(
        *(cadb.append_task_logs(user_id=user.id, task_id=task.id, entries=b) for b in batches)
    )

    # Each append returned its own end index: 100 distinct ends, 7 apart.
    assert sorted(lengths) == list(range(95 + 7, 95 + 7 * 100 + 1, 7))
    log = await whole_log(user, task.id, conn)
    assert len(log) == 795
    assert log[:95] == [f"seed {n}" for n in range(95)]
    for batch, end in zip(batches, lengths, strict=True):
        # A batch stays whole, in order, at the indexes its append reported,
        # even where it straddles a sealed page and the open one.
        assert log[end - 7 : end] == [entry.message for entry in batch]
    await assert_paged(conn, task.id, 795)


@pytest.mark.parametrize("after", [0, 1, 99, 100, 101, 199, 200, 250, 349, 350, 351, 10_000])
async def test_reads_after_any_index_are_the_tail_of_the_whole_log(
    conn: cadb.Connection, user: cadb.User, after: int
) -> None:
    task = await new_task(user, conn)
    for start in range(0, 350, 50):
        await cadb.append_task_logs(
            user_id=user.id,
            task_id=task.id,
            entries=[info(f"line {n}") for n in range(start, start + 50)],
            conn=conn,
        )
    whole = [f"line {n}" for n in range(350)]
    await assert_paged(conn, task.id, 350)

    tail = await cadb.get_task_logs(user_id=user.id, task_id=task.id, after=after, conn=conn)

    assert messages(tail) == whole[after:]
    assert await whole_log(user, task.id, conn) == whole
    polled = await cadb.get_task(user_id=user.id, task_id=task.id, logs_after=after, conn=conn)
    assert polled is not None
    assert messages(polled.logs) == whole[after:]


async def test_an_append_returns_the_whole_logs_length_past_a_page(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user, conn)
    for n in range(PAGE * 2 + 1):
        length = await cadb.append_task_log(
            user_id=user.id, task_id=task.id, entry=info(f"line {n}"), conn=conn
        )
        assert length == n + 1
    await assert_paged(conn, task.id, PAGE * 2 + 1)
    assert await whole_log(user, task.id, conn) == [f"line {n}" for n in range(201)]


async def test_the_dba_view_equals_the_apis_log(conn: cadb.Connection, user: cadb.User) -> None:
    task = await new_task(user, conn)
    await cadb.append_task_logs(
        user_id=user.id, task_id=task.id, entries=[info(f"line {n}") for n in range(250)], conn=conn
    )
    api = await cadb.get_task(user_id=user.id, task_id=task.id, conn=conn)
    assert api is not None
    assert api.logs is not None

    rows = [
        row async for row in checks.list_task_log_entries(conn, user_id=user.id, task_id=task.id)
    ]

    assert [row["index"] for row in rows] == list(range(250))
    assert [msgspec.convert(row["entry"], cadb.LogEntry) for row in rows] == api.logs


async def test_the_apps_read_modify_write_of_tasks_logs_is_sealed_too(
    conn: cadb.Connection, user: cadb.User
) -> None:
    """The TypeScript app reads tasks.logs, adds its entry and writes the array back."""
    task = await new_task(user, conn)
    await cadb.append_task_logs(
        user_id=user.id, task_id=task.id, entries=[info(f"line {n}") for n in range(150)], conn=conn
    )
    seen_by_app: list[dict[str, Any]] = await checks.get_raw_task_logs(conn, task_id=task.id)
    # What the app sees of a long log is its open page: the last 1-100 entries.
    assert [entry["message"] for entry in seen_by_app] == [f"line {n}" for n in range(100, 150)]

    for n in range(150, 260):
        entry = {"type": "info", "message": f"line {n}", "timestamp": "2025-01-01T00:00:00Z"}
        seen_by_app = await checks.get_raw_task_logs(conn, task_id=task.id)
        await checks.set_raw_task_logs(conn, task_id=task.id, logs=[*seen_by_app, entry])

    assert await whole_log(user, task.id, conn) == [f"line {n}" for n in range(260)]
    await assert_paged(conn, task.id, 260)


@pytest.mark.parametrize("how", ["package", "app"])
async def test_clearing_a_long_log_drops_its_sealed_pages(
    conn: cadb.Connection, user: cadb.User, how: str
) -> None:
    task = await new_task(user, conn)
    await cadb.append_task_logs(
        user_id=user.id, task_id=task.id, entries=[info(f"line {n}") for n in range(250)], conn=conn
    )

    if how == "package":
        await cadb.clear_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    else:  # the app's clear-logs route: `logs = []`
        await checks.set_raw_task_logs(conn, task_id=task.id, logs=[])

    assert await whole_log(user, task.id, conn) == []
    assert await checks.count_task_log_pages(conn, task_id=task.id) == 0
    assert (
        await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("again"), conn=conn)
        == 1
    )
    assert await whole_log(user, task.id, conn) == ["again"]


async def test_a_merged_accounts_tasks_keep_their_sealed_pages(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    """Pages follow their task when an account merge hands it to another user."""
    task = await new_task(user, conn)
    await cadb.append_task_logs(
        user_id=user.id, task_id=task.id, entries=[info(f"line {n}") for n in range(150)], conn=conn
    )
    await queries.move_tasks(conn, user_id=user.id, new_user_id=other_user.id)

    assert await whole_log(other_user, task.id, conn) == [f"line {n}" for n in range(150)]
    assert await cadb.get_task(user_id=user.id, task_id=task.id, conn=conn) is None


def rollback_to_before_0040(url: str) -> list[str]:
    """Roll back 0040 and every migration after it; returns their ids, newest first."""
    newer = [m for m in migration_state(url).applied if m >= "0040"]
    undone = rollback_latest(url, len(newer))
    assert undone[-1] == "0040.create-task-log-pages"
    return undone


async def user_in(conn: cadb.Connection) -> cadb.User:
    identity = cadb.NewUser(
        provider="github", external_id=secrets.token_hex(8), access_token="t", username="someone"
    )
    return await cadb.upsert_user(identity, conn=conn)


async def test_the_migration_pages_an_existing_10k_entry_log(
    fresh_database: FreshDatabase,
) -> None:
    url = await asyncio.to_thread(fresh_database)
    pool = await cadb.create_pool(url)
    try:
        async with pool.acquire() as conn:
            user = await user_in(conn)
            task = await new_task(user, conn)
            short = await new_task(user, conn)
        undone = await asyncio.to_thread(rollback_to_before_0040, url)
        async with pool.acquire() as conn:
            # Logs as they were before 0040: one array in tasks.logs.
            await checks.fill_raw_task_log(conn, task_id=task.id, entry_count=10_000)
            await checks.fill_raw_task_log(conn, task_id=short.id, entry_count=40)

        applied = await asyncio.to_thread(apply_pending, url)

        assert applied == undone[::-1]
        async with pool.acquire() as conn:
            await assert_paged(conn, task.id, 10_000)
            await assert_paged(conn, short.id, 40)
            whole = [f"line {n}" for n in range(10_000)]
            assert await whole_log(user, task.id, conn) == whole
            tail = await cadb.get_task_logs(
                user_id=user.id, task_id=task.id, after=9_950, conn=conn
            )
            assert messages(tail) == whole[9_950:]
            length = await cadb.append_task_log(
                user_id=user.id, task_id=task.id, entry=info("after"), conn=conn
            )
            assert length == 10_001
            assert await whole_log(user, short.id, conn) == [f"line {n}" for n in range(40)]
    finally:
        await pool.close()


async def test_rolling_back_0040_puts_every_entry_back_in_tasks_logs(
    fresh_database: FreshDatabase,
) -> None:
    url = await asyncio.to_thread(fresh_database)
    pool = await cadb.create_pool(url)
    try:
        async with pool.acquire() as conn:
            user = await user_in(conn)
            task = await new_task(user, conn)
            entries = [info(f"line {n}") for n in range(345)]
            await cadb.append_task_logs(
                user_id=user.id, task_id=task.id, entries=entries, conn=conn
            )
    finally:
        await pool.close()

    await asyncio.to_thread(rollback_to_before_0040, url)

    raw = await asyncpg.connect(url)
    try:
        stored = await checks.get_raw_task_logs(raw, task_id=task.id)
    finally:
        await raw.close()
    assert [entry["message"] for entry in json.loads(stored)] == [f"line {n}" for n in range(345)]
