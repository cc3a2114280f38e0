"""Tasks: creation, lookup, listing, the streamed log, updates, status, soft delete, purge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from coding_agent_db.models import TaskStatus
from coding_agent_db.sql import queries
from tests.conftest import MakeUser, checks
from tests.plans import index_keys, leads_with_the_user, parsed_plan, scanned_indexes

EXPLAIN = "EXPLAIN (FORMAT JSON) "
FINAL_STATUSES: tuple[TaskStatus, ...] = ("completed", "error", "stopped")


async def allow(user_id: str, per_day: int) -> None:
    """Set the user's daily limit of tasks + messages."""
    await cadb.set_setting(user_id=user_id, key="maxMessagesPerDay", value=str(per_day))


@pytest.fixture
async def roomy_user(user: cadb.User) -> cadb.User:
    """A fresh user whose daily limit does not get in the way."""
    await allow(user.id, 1000)
    return user


async def new_task(user_id: str, conn: cadb.Connection, prompt: str = "fix the bug") -> cadb.Task:
    return await cadb.create_task(user_id=user_id, task=cadb.NewTask(prompt=prompt), conn=conn)


async def current(user_id: str, task_id: str, conn: cadb.Connection) -> cadb.Task:
    task = await cadb.get_task(user_id=user_id, task_id=task_id, conn=conn)
    assert task is not None
    return task


def info(message: str, **fields: Any) -> cadb.LogEntry:
    return cadb.LogEntry(type="info", message=message, **fields)


# ---------------------------------------------------------------- create and get


async def test_create_task_starts_pending_with_defaults(
    conn: cadb.Connection, user: cadb.User
) -> None:
    before = datetime.now(UTC)
    task = await new_task(user.id, conn)

    assert task.user_id == user.id
    assert task.prompt == "fix the bug"
    assert task.status == "pending"
    assert task.progress == 0
    assert task.selected_agent == "claude"
    assert task.max_duration == 300
    assert (task.install_dependencies, task.keep_alive, task.enable_browser) == (
        False,
        False,
        False,
    )
    assert task.logs == []
    assert task.mcp_server_ids == []
    assert task.title is None
    assert task.error is None
    assert task.completed_at is None
    assert task.deleted_at is None
    assert task.created_at.tzinfo is not None
    assert (
        before - timedelta(seconds=5) < task.created_at < datetime.now(UTC) + timedelta(seconds=5)
    )
    assert await cadb.get_task(user_id=user.id, task_id=task.id, conn=conn) == task


async def test_create_task_stores_the_given_fields(conn: cadb.Connection, user: cadb.User) -> None:
    task = await cadb.create_task(
        user_id=user.id,
        task=cadb.NewTask(
            prompt="add a README",
            title="Docs",
            repo_url="https://github.com/octo/repo",
            selected_agent="codex",
            selected_model="gpt-5",
            install_dependencies=True,
            max_duration=60,
            keep_alive=True,
            enable_browser=True,
        ),
        conn=conn,
    )
    stored = await current(user.id, task.id, conn)
    assert (stored.title, stored.repo_url, stored.selected_agent, stored.selected_model) == (
        "Docs",
        "https://github.com/octo/repo",
        "codex",
        "gpt-5",
    )
    assert (stored.install_dependencies, stored.keep_alive, stored.enable_browser) == (
        True,
        True,
        True,
    )
    assert stored.max_duration == 60


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "p", "max_duration": 0}, "max_duration"),
        ({"prompt": "p", "repo_url": "ftp://example.com/repo"}, "repo_url"),
        ({"prompt": "p", "selected_agent": "devin"}, "selected_agent"),
    ],
)
async def test_create_task_refuses_invalid_input_naming_the_field(
    conn: cadb.Connection, user: cadb.User, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_task(user_id=user.id, task=cadb.NewTask(**fields), conn=conn)
    assert caught.value.field == field
    assert await cadb.list_tasks(user_id=user.id, conn=conn) == []


async def test_a_prompt_with_a_nul_character_is_refused_naming_the_prompt(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="a\x00b"), conn=conn)
    assert caught.value.field == "prompt"


async def test_create_task_for_an_unknown_user_raises_not_found(conn: cadb.Connection) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.create_task(user_id=new_id(), task=cadb.NewTask(prompt="p"), conn=conn)


async def test_get_task_of_an_unknown_id_is_none(conn: cadb.Connection, user: cadb.User) -> None:
    assert await cadb.get_task(user_id=user.id, task_id=new_id(), conn=conn) is None


# ---------------------------------------------------------------- listing


async def test_list_tasks_returns_newest_first_without_logs(
    conn: cadb.Connection, roomy_user: cadb.User
) -> None:
    created = [await new_task(roomy_user.id, conn, prompt=f"task {n}") for n in range(3)]
    await cadb.append_task_log(
        user_id=roomy_user.id, task_id=created[0].id, entry=info("hello"), conn=conn
    )

    listed = await cadb.list_tasks(user_id=roomy_user.id, conn=conn)

    assert [task.id for task in listed] == [task.id for task in reversed(created)]
    assert "logs" not in cadb.TaskSummary.__struct_fields__
    assert all(type(task) is cadb.TaskSummary for task in listed)


async def test_list_tasks_pages_by_keyset_without_duplicates_or_gaps(
    conn: cadb.Connection, roomy_user: cadb.User
) -> None:
    created = [await new_task(roomy_user.id, conn, prompt=f"task {n}") for n in range(11)]
    # Several tasks created in the same instant: the id breaks the tie.
    same_instant = datetime.now(UTC) - timedelta(hours=1)
    for task in created[3:8]:
        await checks.set_raw_task_dates(
            conn, task_id=task.id, created_at=same_instant, deleted_at=None
        )
    everything = await cadb.list_tasks(user_id=roomy_user.id, limit=100, conn=conn)
    assert len(everything) == len(created)
    keys = [(task.created_at, task.id) for task in everything]
    assert keys == sorted(keys, reverse=True)

    pages: list[list[cadb.TaskSummary]] = []
    before: cadb.TaskCursor | None = None
    while True:
        page = await cadb.list_tasks(user_id=roomy_user.id, limit=3, before=before, conn=conn)
        if not page:
            break
        assert len(page) <= 3
        pages.append(page)
        before = page[-1].cursor

    assert [len(page) for page in pages] == [3, 3, 3, 2]
    paged_ids = [task.id for page in pages for task in page]
    assert paged_ids == [task.id for task in everything]
    assert len(set(paged_ids)) == len(created)


@pytest.mark.parametrize("limit", [0, -1, 101])
async def test_list_tasks_refuses_a_limit_outside_1_to_100(
    conn: cadb.Connection, user: cadb.User, limit: int
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.list_tasks(user_id=user.id, limit=limit, conn=conn)
    assert caught.value.field == "limit"


async def test_list_tasks_shows_only_the_users_own_tasks(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    mine = await new_task(user.id, conn)
    await new_task(other_user.id, conn)
    assert [task.id for task in await cadb.list_tasks(user_id=user.id, conn=conn)] == [mine.id]


async def test_list_tasks_first_page_uses_no_sequential_scan_at_100k_tasks(
    bulk_tasks: cadb.Connection,
) -> None:
    first_page = {
        "user_id": "bulk-7",
        "before_created_at": datetime.max.replace(tzinfo=UTC),
        "before_id": "",
        "limit": 20,
    }
    custom = parsed_plan(
        await bulk_tasks.fetchval(
            EXPLAIN + queries.list_tasks.sql,
            *(first_page[name] for name in queries.list_tasks.parameters),
        )
    )
    await checks.use_generic_plans(bulk_tasks)
    await checks.create_generic_plan_function(bulk_tasks)
    generic = parsed_plan(
        await checks.explain_generic_plan(
            bulk_tasks,
            statement=queries.list_tasks.sql,
            arguments=[str(first_page[name]) for name in queries.list_tasks.parameters],
        )
    )

    # The generic plan is planned without the values: its conditions name $1.
    assert any("$1" in node.get("Index Cond", "") for node in generic)
    keys = await index_keys(bulk_tasks)
    for plan in (custom, generic):
        assert [node for node in plan if node["Node Type"] == "Seq Scan"] == []
        assert "Sort" not in {node["Node Type"] for node in plan}
        # The user's live tasks, newest first, straight from an index led by the user.
        scanned = [keys[name] for name in scanned_indexes(plan)]
        assert scanned
        assert all(leads_with_the_user(key) for key in scanned), scanned
        assert all(key.predicate == "deleted_at IS NULL" for key in scanned), scanned


# ---------------------------------------------------------------- the log


async def test_append_task_log_returns_the_new_length(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    assert (
        await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("one"), conn=conn)
        == 1
    )
    assert (
        await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("two"), conn=conn)
        == 2
    )
    logs = (await current(user.id, task.id, conn)).logs
    assert logs is not None
    assert [entry.message for entry in logs] == ["one", "two"]


async def test_append_task_logs_appends_a_batch_in_order(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("first"), conn=conn)
    batch = [
        cadb.LogEntry(type="command", message="npm test"),
        cadb.LogEntry(type="error", message="1 failing"),
        cadb.LogEntry(type="success", message="fixed"),
    ]

    length = await cadb.append_task_logs(user_id=user.id, task_id=task.id, entries=batch, conn=conn)

    assert length == 4
    logs = (await current(user.id, task.id, conn)).logs
    assert logs is not None
    assert [(entry.type, entry.message) for entry in logs] == [
        ("info", "first"),
        ("command", "npm test"),
        ("error", "1 failing"),
        ("success", "fixed"),
    ]


async def test_append_logs_keeps_every_entry_under_concurrency(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    messages = [f"line {n:03d}" for n in range(100)]

    lengths = await asyncio.gather(
        *(
            cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info(message))
            for message in messages
        )
    )

    assert sorted(lengths) == list(range(1, 101))
    logs = (await current(user.id, task.id, conn)).logs
    assert logs is not None
    assert len(logs) == 100
    stored = [entry.message for entry in logs]
    assert all(stored.count(message) == 1 for message in messages)


async def test_append_task_log_handles_a_null_log_column(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await checks.set_raw_task_logs_null(conn, task_id=task.id)
    assert (await current(user.id, task.id, conn)).logs is None
    assert await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn) == []

    assert (
        await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("x"), conn=conn)
        == 1
    )

    logs = (await current(user.id, task.id, conn)).logs
    assert logs is not None
    assert [entry.message for entry in logs] == ["x"]


async def test_append_task_log_moves_updated_at_and_last_heartbeat(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    assert task.last_heartbeat is None

    await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("a"), conn=conn)
    first = await current(user.id, task.id, conn)
    await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("b"), conn=conn)
    second = await current(user.id, task.id, conn)

    assert first.updated_at > task.updated_at
    assert first.last_heartbeat is not None
    assert second.updated_at > first.updated_at
    assert second.last_heartbeat is not None
    assert second.last_heartbeat > first.last_heartbeat


async def test_append_task_log_truncates_long_messages_with_a_marker(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    limit = cadb.MAX_LOG_MESSAGE_LENGTH
    assert limit == 2000
    at_limit = "a" * limit
    too_long = "b" * 5000

    length = await cadb.append_task_logs(
        user_id=user.id, task_id=task.id, entries=[info(at_limit), info(too_long)], conn=conn
    )

    assert length == 2
    logs = await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    assert logs is not None
    assert logs[0].message == at_limit
    truncated = logs[1].message
    assert len(truncated) <= limit
    assert "truncated" in truncated
    assert truncated.startswith("b" * 1000)


async def test_append_task_log_refuses_an_invalid_entry_before_sql(
    conn: cadb.Connection, user: cadb.User
) -> None:
    bogus = cadb.LogEntry(type="bogus", message="x")  # type: ignore[arg-type]
    # A task that does not exist: had SQL run, NotFoundError would come instead.
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.append_task_log(user_id=user.id, task_id=new_id(), entry=bogus, conn=conn)
    assert caught.value.field == "entries[0].type"


async def test_append_task_logs_refuses_a_batch_with_an_invalid_entry_as_a_whole(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    batch = [
        info("fine"),
        cadb.LogEntry(type="bogus", message="x"),  # type: ignore[arg-type]
    ]
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.append_task_logs(user_id=user.id, task_id=task.id, entries=batch, conn=conn)
    assert caught.value.field == "entries[1].type"
    assert (await current(user.id, task.id, conn)).logs == []


async def test_append_task_log_refuses_something_that_is_not_a_log_entry(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.append_task_logs(
            user_id=user.id,
            task_id=task.id,
            entries=[{"type": "info", "message": "x"}],  # type: ignore[list-item]
            conn=conn,
        )
    assert caught.value.field == "entries[0]"


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("before\x00after", id="nul-character"),
        pytest.param("before \udcff after", id="lone-surrogate"),
    ],
)
async def test_a_log_line_with_characters_postgres_cannot_store_is_still_stored(
    conn: cadb.Connection, user: cadb.User, message: str
) -> None:
    """Agents print raw bytes too; a log line must never fail the run."""
    task = await new_task(user.id, conn)
    length = await cadb.append_task_log(
        user_id=user.id, task_id=task.id, entry=info(message), conn=conn
    )
    assert length == 1
    logs = await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    assert logs is not None
    assert logs[0].message.startswith("before")
    assert logs[0].message.endswith("after")


async def test_stored_log_entries_keep_camel_case_keys(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    entry = cadb.LogEntry(
        type="subagent",
        message="exploring",
        agent_source=cadb.AgentSource(
            name="explorer", is_sub_agent=True, parent_agent="claude", sub_agent_id="sub-1"
        ),
    )
    await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=entry, conn=conn)

    raw = await checks.get_raw_task(conn, task_id=task.id)
    (stored,) = raw["logs"]
    assert set(stored) == {"type", "message", "timestamp", "agentSource"}
    assert stored["agentSource"] == {
        "name": "explorer",
        "isSubAgent": True,
        "parentAgent": "claude",
        "subAgentId": "sub-1",
    }
    logs = await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    assert logs is not None
    assert logs[0].agent_source == entry.agent_source


async def test_append_task_log_fills_in_a_missing_timestamp_and_keeps_a_given_one(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    given = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    before = datetime.now(UTC)
    await cadb.append_task_logs(
        user_id=user.id,
        task_id=task.id,
        entries=[info("no time"), info("given time", timestamp=given)],
        conn=conn,
    )
    logs = await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    assert logs is not None
    assert logs[0].timestamp is not None
    assert before - timedelta(seconds=1) <= logs[0].timestamp <= datetime.now(UTC)
    assert logs[1].timestamp == given


async def test_append_task_log_to_a_missing_or_deleted_task_raises_not_found(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.append_task_log(user_id=user.id, task_id=new_id(), entry=info("x"), conn=conn)
    task = await new_task(user.id, conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("x"), conn=conn)
    assert (await checks.get_raw_task(conn, task_id=task.id))["logs"] == []


async def test_get_task_logs_returns_only_entries_after_the_given_index(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.append_task_logs(
        user_id=user.id,
        task_id=task.id,
        entries=[info(f"line {n}") for n in range(5)],
        conn=conn,
    )

    everything = await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    newer = await cadb.get_task_logs(user_id=user.id, task_id=task.id, after=3, conn=conn)

    assert everything is not None
    assert [entry.message for entry in everything] == [f"line {n}" for n in range(5)]
    assert newer is not None
    assert [entry.message for entry in newer] == ["line 3", "line 4"]
    assert newer == everything[3:]


@pytest.mark.parametrize("after", [2, 3, 1000])
async def test_get_task_logs_after_the_end_returns_an_empty_list(
    conn: cadb.Connection, user: cadb.User, after: int
) -> None:
    task = await new_task(user.id, conn)
    await cadb.append_task_logs(
        user_id=user.id, task_id=task.id, entries=[info("a"), info("b")], conn=conn
    )
    assert await cadb.get_task_logs(user_id=user.id, task_id=task.id, after=after, conn=conn) == []


async def test_get_task_logs_with_an_index_past_any_log_returns_an_empty_list(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("a"), conn=conn)
    assert await cadb.get_task_logs(user_id=user.id, task_id=task.id, after=2**31, conn=conn) == []


async def test_get_task_logs_of_another_users_task_is_none(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=info("a"), conn=conn)
    assert await cadb.get_task_logs(user_id=other_user.id, task_id=task.id, conn=conn) is None


async def test_get_task_logs_refuses_a_negative_index(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.get_task_logs(user_id=user.id, task_id=task.id, after=-1, conn=conn)
    assert caught.value.field == "after"


# ---------------------------------------------------------------- status


async def test_update_task_status_moves_pending_to_processing_to_completed(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)

    await cadb.update_task_status(
        user_id=user.id, task_id=task.id, status="processing", progress=40, conn=conn
    )
    processing = await current(user.id, task.id, conn)
    assert (processing.status, processing.progress, processing.completed_at) == (
        "processing",
        40,
        None,
    )

    await cadb.update_task_status(
        user_id=user.id, task_id=task.id, status="completed", progress=100, conn=conn
    )
    completed = await current(user.id, task.id, conn)
    assert (completed.status, completed.progress) == ("completed", 100)
    assert completed.completed_at is not None
    assert completed.completed_at >= processing.updated_at


@pytest.mark.parametrize("final", FINAL_STATUSES)
async def test_a_final_status_sets_completed_at(
    conn: cadb.Connection, user: cadb.User, final: TaskStatus
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_status(
        user_id=user.id,
        task_id=task.id,
        status=final,
        conn=conn,
    )
    stored = await current(user.id, task.id, conn)
    assert stored.status == final
    assert stored.completed_at is not None
    raw = await checks.get_raw_task(conn, task_id=task.id)
    assert raw["completed_at"] == stored.completed_at


@pytest.mark.parametrize("final", FINAL_STATUSES)
@pytest.mark.parametrize("later", ["pending", "processing", "completed", "error", "stopped"])
async def test_a_final_status_never_changes(
    conn: cadb.Connection, user: cadb.User, final: TaskStatus, later: TaskStatus
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_status(
        user_id=user.id,
        task_id=task.id,
        status=final,
        conn=conn,
    )
    before = await checks.get_raw_task_text(conn, task_id=task.id)

    with pytest.raises(cadb.InvalidTransitionError):
        await cadb.update_task_status(
            user_id=user.id,
            task_id=task.id,
            status=later,
            progress=50,
            error="later",
            conn=conn,
        )

    assert await checks.get_raw_task_text(conn, task_id=task.id) == before


async def test_update_task_status_records_the_error_text(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_status(
        user_id=user.id, task_id=task.id, status="error", error="sandbox timed out", conn=conn
    )
    stored = await current(user.id, task.id, conn)
    assert (stored.status, stored.error) == ("error", "sandbox timed out")


async def test_update_task_status_keeps_progress_and_error_when_none(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_status(
        user_id=user.id,
        task_id=task.id,
        status="processing",
        progress=30,
        error="retrying",
        conn=conn,
    )
    await cadb.update_task_status(user_id=user.id, task_id=task.id, status="processing", conn=conn)
    stored = await current(user.id, task.id, conn)
    assert (stored.progress, stored.error) == (30, "retrying")


@pytest.mark.parametrize("progress", [-1, 101, 1000])
async def test_update_task_status_refuses_progress_outside_0_to_100(
    conn: cadb.Connection, user: cadb.User, progress: int
) -> None:
    task = await new_task(user.id, conn)
    before = await checks.get_raw_task_text(conn, task_id=task.id)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_status(
            user_id=user.id, task_id=task.id, status="processing", progress=progress, conn=conn
        )
    assert caught.value.field == "progress"
    assert await checks.get_raw_task_text(conn, task_id=task.id) == before


async def test_update_task_status_refuses_an_unknown_status(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_status(
            user_id=user.id,
            task_id=task.id,
            status="paused",  # type: ignore[arg-type]
            conn=conn,
        )
    assert caught.value.field == "status"
    assert (await current(user.id, task.id, conn)).status == "pending"


async def test_update_task_status_of_a_missing_task_raises_not_found(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.update_task_status(
            user_id=user.id, task_id=new_id(), status="processing", conn=conn
        )


# ---------------------------------------------------------------- other updates


async def test_update_task_title_is_visible_via_get_task(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_title(user_id=user.id, task_id=task.id, title="Fix login", conn=conn)
    stored = await current(user.id, task.id, conn)
    assert stored.title == "Fix login"
    assert stored.updated_at > task.updated_at


async def test_update_task_title_refuses_a_too_long_title(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_title(
            user_id=user.id, task_id=task.id, title="t" * 10_001, conn=conn
        )
    assert caught.value.field == "title"


async def test_update_task_branch_sets_values_and_keeps_them_for_none(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_branch(
        user_id=user.id,
        task_id=task.id,
        branch_name="agent/fix-login",
        source_branch="main",
        conn=conn,
    )
    await cadb.update_task_branch(
        user_id=user.id, task_id=task.id, branch_name="agent/fix-login-2", conn=conn
    )
    stored = await current(user.id, task.id, conn)
    assert (stored.branch_name, stored.source_branch) == ("agent/fix-login-2", "main")


async def test_update_task_branch_refuses_an_invalid_git_ref(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_branch(
            user_id=user.id, task_id=task.id, branch_name="has space", conn=conn
        )
    assert caught.value.field == "branch_name"


async def test_update_task_sandbox_sets_values_and_keeps_them_for_none(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_sandbox(
        user_id=user.id,
        task_id=task.id,
        sandbox_id="sbx_123",
        sandbox_url="https://sbx-123.example.com",
        conn=conn,
    )
    await cadb.update_task_sandbox(
        user_id=user.id, task_id=task.id, preview_url="https://preview.example.com", conn=conn
    )
    stored = await current(user.id, task.id, conn)
    assert (stored.sandbox_id, stored.sandbox_url, stored.preview_url) == (
        "sbx_123",
        "https://sbx-123.example.com",
        "https://preview.example.com",
    )


async def test_update_task_pull_request_keeps_existing_values_for_none(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_pull_request(
        user_id=user.id,
        task_id=task.id,
        pr_url="https://github.com/octo/repo/pull/7",
        pr_number=7,
        pr_status="open",
        conn=conn,
    )
    opened = await current(user.id, task.id, conn)
    assert (opened.pr_url, opened.pr_number, opened.pr_status, opened.pr_merge_commit_sha) == (
        "https://github.com/octo/repo/pull/7",
        7,
        "open",
        None,
    )

    await cadb.update_task_pull_request(
        user_id=user.id,
        task_id=task.id,
        pr_status="merged",
        pr_merge_commit_sha="0123456789abcdef0123456789abcdef01234567",
        conn=conn,
    )
    merged = await current(user.id, task.id, conn)
    assert (merged.pr_url, merged.pr_number, merged.pr_status, merged.pr_merge_commit_sha) == (
        "https://github.com/octo/repo/pull/7",
        7,
        "merged",
        "0123456789abcdef0123456789abcdef01234567",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pr_status": "draft"}, "pr_status"),
        ({"pr_number": 0}, "pr_number"),
        ({"pr_merge_commit_sha": "not-a-sha"}, "pr_merge_commit_sha"),
        ({"pr_url": "github.com/octo/repo/pull/7"}, "pr_url"),
    ],
)
async def test_update_task_pull_request_refuses_invalid_values(
    conn: cadb.Connection, user: cadb.User, fields: dict[str, Any], field: str
) -> None:
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_pull_request(user_id=user.id, task_id=task.id, conn=conn, **fields)
    assert caught.value.field == field


async def test_update_task_agent_session_is_visible_via_get_task(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.update_task_agent_session(
        user_id=user.id, task_id=task.id, agent_session_id="session-42", conn=conn
    )
    assert (await current(user.id, task.id, conn)).agent_session_id == "session-42"


async def test_update_task_sub_agents_replaces_activity_and_current_sub_agent(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    started = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    first = [
        cadb.SubAgentActivity(
            id="a1",
            name="explorer",
            parent_agent="claude",
            description="read the code",
            started_at=started,
        ),
        cadb.SubAgentActivity(id="a2", name="tester"),
    ]
    await cadb.update_task_sub_agents(
        user_id=user.id,
        task_id=task.id,
        sub_agent_activity=first,
        current_sub_agent="explorer",
        conn=conn,
    )
    stored = await current(user.id, task.id, conn)
    assert stored.sub_agent_activity == first
    assert stored.current_sub_agent == "explorer"
    assert stored.last_heartbeat is not None
    raw = await checks.get_raw_task_text(conn, task_id=task.id)
    assert '"parentAgent": "claude"' in raw
    assert '"startedAt": ' in raw

    done = [
        cadb.SubAgentActivity(
            id="a1", name="explorer", status="completed", started_at=started, completed_at=started
        )
    ]
    await cadb.update_task_sub_agents(
        user_id=user.id,
        task_id=task.id,
        sub_agent_activity=done,
        current_sub_agent=None,
        conn=conn,
    )
    replaced = await current(user.id, task.id, conn)
    assert replaced.sub_agent_activity == done
    assert replaced.current_sub_agent is None


async def test_update_task_sub_agents_refuses_an_unknown_sub_agent_status(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_sub_agents(
            user_id=user.id,
            task_id=task.id,
            sub_agent_activity=[
                cadb.SubAgentActivity(id="a", name="b", status="lost")  # type: ignore[arg-type]
            ],
            current_sub_agent=None,
            conn=conn,
        )
    assert caught.value.field == "sub_agent_activity[0].status"


async def test_touch_task_heartbeat_moves_last_heartbeat(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.touch_task_heartbeat(user_id=user.id, task_id=task.id, conn=conn)
    first = (await current(user.id, task.id, conn)).last_heartbeat
    await cadb.touch_task_heartbeat(user_id=user.id, task_id=task.id, conn=conn)
    second = (await current(user.id, task.id, conn)).last_heartbeat
    assert first is not None
    assert second is not None
    assert second > first


# ---------------------------------------------------------------- MCP servers of a task


async def new_connector(user_id: str, conn: cadb.Connection, name: str = "mcp") -> cadb.Connector:
    return await cadb.create_connector(
        user_id=user_id,
        connector=cadb.NewConnector(name=name, base_url="https://mcp.example.com"),
        conn=conn,
    )


async def test_create_task_accepts_the_users_own_connectors(
    conn: cadb.Connection, user: cadb.User
) -> None:
    one = await new_connector(user.id, conn, "one")
    two = await new_connector(user.id, conn, "two")
    task = await cadb.create_task(
        user_id=user.id,
        task=cadb.NewTask(prompt="p", mcp_server_ids=[one.id, two.id, one.id]),
        conn=conn,
    )
    assert task.mcp_server_ids == [one.id, two.id]
    assert (await current(user.id, task.id, conn)).mcp_server_ids == [one.id, two.id]


@pytest.mark.parametrize("whose", ["another user's", "nobody's"])
async def test_create_task_refuses_a_connector_the_user_does_not_own(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User, whose: str
) -> None:
    mine = await new_connector(user.id, conn)
    foreign = (
        (await new_connector(other_user.id, conn)).id if whose == "another user's" else new_id()
    )
    used_before = (await cadb.check_rate_limit(user_id=user.id, conn=conn)).used

    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_task(
            user_id=user.id,
            task=cadb.NewTask(prompt="p", mcp_server_ids=[mine.id, foreign]),
            conn=conn,
        )

    assert caught.value.field == "mcp_server_ids"
    assert await cadb.list_tasks(user_id=user.id, conn=conn) == []
    assert (await cadb.check_rate_limit(user_id=user.id, conn=conn)).used == used_before


async def test_update_task_mcp_servers_sets_the_users_own_connectors(
    conn: cadb.Connection, user: cadb.User
) -> None:
    one = await new_connector(user.id, conn, "one")
    two = await new_connector(user.id, conn, "two")
    task = await cadb.create_task(
        user_id=user.id, task=cadb.NewTask(prompt="p", mcp_server_ids=[one.id]), conn=conn
    )
    await cadb.update_task_mcp_servers(
        user_id=user.id, task_id=task.id, mcp_server_ids=[two.id], conn=conn
    )
    assert (await current(user.id, task.id, conn)).mcp_server_ids == [two.id]
    await cadb.update_task_mcp_servers(
        user_id=user.id, task_id=task.id, mcp_server_ids=[], conn=conn
    )
    assert (await current(user.id, task.id, conn)).mcp_server_ids == []


async def test_update_task_mcp_servers_refuses_another_users_connector(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    mine = await new_connector(user.id, conn)
    foreign = await new_connector(other_user.id, conn)
    task = await cadb.create_task(
        user_id=user.id, task=cadb.NewTask(prompt="p", mcp_server_ids=[mine.id]), conn=conn
    )
    before = await checks.get_raw_task_text(conn, task_id=task.id)

    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_mcp_servers(
            user_id=user.id, task_id=task.id, mcp_server_ids=[mine.id, foreign.id], conn=conn
        )

    assert caught.value.field == "mcp_server_ids"
    assert await checks.get_raw_task_text(conn, task_id=task.id) == before


# ---------------------------------------------------------------- soft delete and purge


async def test_deleted_task_vanishes_from_get_and_list_but_stays_in_the_table(
    conn: cadb.Connection, roomy_user: cadb.User
) -> None:
    kept = await new_task(roomy_user.id, conn)
    deleted = await new_task(roomy_user.id, conn)

    await cadb.delete_task(user_id=roomy_user.id, task_id=deleted.id, conn=conn)

    assert await cadb.get_task(user_id=roomy_user.id, task_id=deleted.id, conn=conn) is None
    listed = await cadb.list_tasks(user_id=roomy_user.id, conn=conn)
    assert [task.id for task in listed] == [kept.id]
    raw = await checks.get_raw_task(conn, task_id=deleted.id)
    assert raw is not None
    assert raw["deleted_at"] is not None
    assert raw["user_id"] == roomy_user.id


async def test_deleting_a_task_twice_raises_not_found(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    first_deleted_at = (await checks.get_raw_task(conn, task_id=task.id))["deleted_at"]
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    assert (await checks.get_raw_task(conn, task_id=task.id))["deleted_at"] == first_deleted_at


async def test_a_deleted_task_refuses_updates(conn: cadb.Connection, user: cadb.User) -> None:
    task = await new_task(user.id, conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    before = await checks.get_raw_task_text(conn, task_id=task.id)
    with pytest.raises(cadb.NotFoundError):
        await cadb.update_task_status(
            user_id=user.id, task_id=task.id, status="processing", conn=conn
        )
    with pytest.raises(cadb.NotFoundError):
        await cadb.update_task_title(user_id=user.id, task_id=task.id, title="t", conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.touch_task_heartbeat(user_id=user.id, task_id=task.id, conn=conn)
    assert await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn) is None
    assert await checks.get_raw_task_text(conn, task_id=task.id) == before


async def test_purge_deleted_tasks_removes_only_tasks_deleted_longer_ago(
    conn: cadb.Connection, roomy_user: cadb.User
) -> None:
    user_id = roomy_user.id
    long_ago = datetime.now(UTC) - timedelta(days=40)
    # Leftovers of earlier tests would count too: the purge spans all users.
    await cadb.purge_deleted_tasks(older_than=timedelta(days=30), conn=conn)

    old_deleted = await new_task(user_id, conn, prompt="old, deleted")
    message = await cadb.create_user_message(
        user_id=user_id, task_id=old_deleted.id, content="hi", conn=conn
    )
    recent_deleted = await new_task(user_id, conn, prompt="recent, deleted")
    old_live = await new_task(user_id, conn, prompt="old, live")
    for task in (old_deleted, recent_deleted):
        await cadb.delete_task(user_id=user_id, task_id=task.id, conn=conn)
    await checks.set_raw_task_dates(
        conn, task_id=old_deleted.id, created_at=long_ago, deleted_at=long_ago
    )
    await checks.set_raw_task_dates(conn, task_id=old_live.id, created_at=long_ago, deleted_at=None)

    purged = await cadb.purge_deleted_tasks(older_than=timedelta(days=30), conn=conn)

    assert purged == 1
    assert await checks.get_raw_task(conn, task_id=old_deleted.id) is None
    assert await checks.get_raw_task_messages_text(conn, task_id=old_deleted.id) == "[]"
    assert message.task_id == old_deleted.id
    recent = await checks.get_raw_task(conn, task_id=recent_deleted.id)
    assert recent is not None
    assert recent["deleted_at"] is not None
    assert await cadb.get_task(user_id=user_id, task_id=old_live.id, conn=conn) is not None
    assert await cadb.purge_deleted_tasks(older_than=timedelta(days=30), conn=conn) == 0


async def test_purge_deleted_tasks_refuses_a_negative_age(conn: cadb.Connection) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.purge_deleted_tasks(older_than=timedelta(days=-1), conn=conn)
    assert caught.value.field == "older_than"


async def test_tasks_of_one_user_do_not_limit_another(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    first = await make_user()
    second = await make_user()
    await allow(first.id, 1)
    await allow(second.id, 1)
    await new_task(first.id, conn)
    await new_task(second.id, conn)
    with pytest.raises(cadb.RateLimitExceededError):
        await new_task(first.id, conn)
