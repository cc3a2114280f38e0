"""Bad input is refused with a typed error naming the field, before any SQL is sent."""

from __future__ import annotations

from typing import Any

import pytest

import coding_agent_db as cadb
from tests.conftest import recorded_queries


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "p", "repo_url": "github.com/x/y"}, "repo_url"),
        ({"prompt": "p", "selected_agent": "devin"}, "selected_agent"),
        ({"prompt": "p", "max_duration": 0}, "max_duration"),
        ({"prompt": "p", "mcp_server_ids": ["ok", 3]}, "mcp_server_ids[1]"),
        ({"prompt": "p", "install_dependencies": "yes"}, "install_dependencies"),
    ],
)
async def test_invalid_task_is_refused_before_any_sql(
    conn: cadb.Connection,
    user: cadb.User,
    fields: dict[str, Any],
    field: str,
) -> None:
    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as raised:
            await cadb.create_task(user_id=user.id, task=cadb.NewTask(**fields), conn=conn)
    assert raised.value.field == field
    assert sent == []


async def test_validation_errors_never_quote_the_value(user: cadb.User) -> None:
    secret = "sk-ant-" + "x" * 20_000
    with pytest.raises(cadb.ValidationError) as raised:
        await cadb.set_key(user_id=user.id, provider="anthropic", value=secret)
    assert raised.value.field == "value"
    assert "xxxx" not in str(raised.value)


async def test_a_valid_task_round_trips_as_structs(conn: cadb.Connection, user: cadb.User) -> None:
    created = await cadb.create_task(
        user_id=user.id,
        task=cadb.NewTask(
            prompt="Add a README",
            repo_url="https://github.com/acme/app",
            selected_agent="codex",
            max_duration=30,
            keep_alive=True,
        ),
        conn=conn,
    )
    assert isinstance(created, cadb.Task)
    assert (created.status, created.progress, created.selected_agent) == ("pending", 0, "codex")
    assert created.logs == []
    fetched = await cadb.get_task(user_id=user.id, task_id=created.id, conn=conn)
    assert fetched == created
    listed = await cadb.list_tasks(user_id=user.id, conn=conn)
    assert all(isinstance(task, cadb.TaskSummary) for task in listed)
    assert listed[0].id == created.id


async def test_a_lookup_of_another_users_task_is_like_a_missing_one(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    assert await cadb.get_task(user_id=other_user.id, task_id=task.id, conn=conn) is None
    assert await cadb.get_task(user_id=other_user.id, task_id="missing", conn=conn) is None
    assert await cadb.get_user(user_id="missing", conn=conn) is None
