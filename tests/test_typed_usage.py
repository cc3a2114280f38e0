"""A typed usage example: mypy --strict checks the types below (assert_type),
and the test runs it, so the example stays true."""

from __future__ import annotations

from typing import assert_type

import coding_agent_db as cadb


async def agent_run(user_id: str) -> int:
    """What an agent run does: one connection for the whole unit of work."""
    async with cadb.connection() as conn:
        limit = await cadb.check_rate_limit(user_id=user_id, conn=conn)
        assert_type(limit, cadb.RateLimit)
        async with cadb.transaction(conn) as tx:
            task = await cadb.create_task(
                user_id=user_id, task=cadb.NewTask(prompt="Fix the flaky test"), conn=tx
            )
            assert_type(task, cadb.Task)
        keys = await cadb.reveal_keys(user_id=user_id, conn=conn)
        assert_type(keys.values, dict[cadb.models.KeyProvider, str])
        length = await cadb.append_task_log(
            user_id=user_id,
            task_id=task.id,
            entry=cadb.LogEntry(type="info", message="cloning"),
            conn=conn,
        )
        assert_type(length, int)
        found = await cadb.get_task(user_id=user_id, task_id=task.id, conn=conn)
        assert_type(found, cadb.Task | None)
        page = await cadb.list_tasks(user_id=user_id, limit=5, conn=conn)
        assert_type(page, list[cadb.TaskSummary])
        return length


async def test_typed_usage_example_runs(user: cadb.User) -> None:
    assert await agent_run(user.id) == 1
