"""What the TypeScript app's task callers rely on, call for call.

Each test makes the calls the app makes (its continue route, TaskLogger,
task creation, clear-logs endpoint, rate limit) and checks the resulting rows.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from tests.conftest import MakeUser, checks, recorded_queries


async def allow(user_id: str, per_day: int) -> None:
    await cadb.set_setting(user_id=user_id, key="maxMessagesPerDay", value=str(per_day))


async def current(user_id: str, task_id: str, conn: cadb.Connection) -> cadb.Task:
    task = await cadb.get_task(user_id=user_id, task_id=task_id, conn=conn)
    assert task is not None
    return task


async def used(user_id: str, conn: cadb.Connection) -> int:
    return (await cadb.check_rate_limit(user_id=user_id, conn=conn)).used


async def finished_task(user_id: str, conn: cadb.Connection) -> cadb.Task:
    """A task run to completion on a branch, as the app's process-task leaves it."""
    task = await cadb.create_task(
        user_id=user_id, task=cadb.NewTask(prompt="add a README"), conn=conn
    )
    await cadb.update_task_branch(
        user_id=user_id, task_id=task.id, branch_name="agent/add-readme", conn=conn
    )
    await cadb.update_task_status(user_id=user_id, task_id=task.id, status="processing", conn=conn)
    await cadb.update_task_status(
        user_id=user_id, task_id=task.id, status="completed", progress=100, conn=conn
    )
    return await current(user_id, task.id, conn)


# ---------------------------------------------------------------- continue


async def test_continue_task_reopens_a_completed_task_like_the_continue_route(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await finished_task(user.id, conn)
    assert task.completed_at is not None
    before = await used(user.id, conn)

    message = await cadb.continue_task(
        user_id=user.id, task_id=task.id, content="  also add a licence  ", conn=conn
    )

    reopened = await current(user.id, task.id, conn)
    assert (reopened.status, reopened.progress, reopened.completed_at) == ("processing", 0, None)
    assert reopened.branch_name == "agent/add-readme"
    assert (message.task_id, message.role) == (task.id, "user")
    listed = await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn)
    assert [(m.role, m.content) for m in listed] == [
        ("user", "add a README"),
        ("user", message.content),
    ]
    assert await used(user.id, conn) == before + 1


async def test_continue_task_is_one_statement(conn: cadb.Connection, user: cadb.User) -> None:
    task = await finished_task(user.id, conn)
    async with recorded_queries(conn) as sent:
        await cadb.continue_task(user_id=user.id, task_id=task.id, content="more", conn=conn)
    assert len(sent) == 1


async def test_continue_task_reopens_error_and_stopped_tasks_too(
    conn: cadb.Connection, user: cadb.User
) -> None:
    for status in ("error", "stopped"):
        task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
        await cadb.update_task_branch(user_id=user.id, task_id=task.id, branch_name="b", conn=conn)
        await cadb.update_task_status(user_id=user.id, task_id=task.id, status=status, conn=conn)
        await cadb.continue_task(user_id=user.id, task_id=task.id, content="again", conn=conn)
        assert (await current(user.id, task.id, conn)).status == "processing"


async def test_a_follow_up_to_a_finished_task_is_refused_not_charged(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await finished_task(user.id, conn)
    before = await used(user.id, conn)
    with pytest.raises(cadb.InvalidTransitionError, match="continue_task"):
        await cadb.create_user_message(user_id=user.id, task_id=task.id, content="hi", conn=conn)
    assert await used(user.id, conn) == before
    assert len(await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn)) == 1
    assert (await current(user.id, task.id, conn)).status == "completed"


async def test_continue_task_refuses_an_active_task_and_one_without_a_branch(
    conn: cadb.Connection, user: cadb.User
) -> None:
    active = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    before = await used(user.id, conn)
    with pytest.raises(cadb.InvalidTransitionError, match="create_user_message"):
        await cadb.continue_task(user_id=user.id, task_id=active.id, content="x", conn=conn)

    branchless = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    await cadb.update_task_status(
        user_id=user.id, task_id=branchless.id, status="completed", conn=conn
    )
    before = await used(user.id, conn)
    with pytest.raises(cadb.InvalidTransitionError, match="branch"):
        await cadb.continue_task(user_id=user.id, task_id=branchless.id, content="x", conn=conn)
    assert await used(user.id, conn) == before
    assert (await current(user.id, branchless.id, conn)).status == "completed"


async def test_continue_task_of_another_users_or_a_deleted_task_is_not_found(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task = await finished_task(user.id, conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.continue_task(user_id=other_user.id, task_id=task.id, content="x", conn=conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.continue_task(user_id=user.id, task_id=task.id, content="x", conn=conn)


async def test_continue_task_is_refused_over_the_daily_limit_leaving_the_task_finished(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 1)
    task = await finished_task(user.id, conn)  # the one use of the day
    with pytest.raises(cadb.RateLimitExceededError) as caught:
        await cadb.continue_task(user_id=user.id, task_id=task.id, content="x", conn=conn)
    assert caught.value.total == 1
    after = await current(user.id, task.id, conn)
    assert (after.status, after.progress) == ("completed", 100)
    assert len(await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn)) == 1


async def test_two_concurrent_continues_of_one_task_succeed_once(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await finished_task(user.id, conn)
    before = await used(user.id, conn)
    results = await asyncio.gather(
        *(
            cadb.continue_task(user_id=user.id, task_id=task.id, content=f"go {n}")
            for n in range(5)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(result, cadb.TaskMessage) for result in results) == 1
    assert sum(isinstance(result, cadb.InvalidTransitionError) for result in results) == 4
    assert await used(user.id, conn) == before + 1


# ---------------------------------------------------------------- progress


async def test_progress_after_completion_sets_progress_and_logs_in_one_statement(
    conn: cadb.Connection, user: cadb.User
) -> None:
    """process-task: updateStatus('completed') then updateProgress(100, ...)."""
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    await cadb.update_task_progress(
        user_id=user.id, task_id=task.id, progress=10, message="Initializing...", conn=conn
    )
    await cadb.update_task_status(user_id=user.id, task_id=task.id, status="completed", conn=conn)
    async with recorded_queries(conn) as sent:
        length = await cadb.update_task_progress(
            user_id=user.id,
            task_id=task.id,
            progress=100,
            message="Task completed successfully",
            conn=conn,
        )
    assert len(sent) == 1
    done = await current(user.id, task.id, conn)
    assert (done.status, done.progress, length) == ("completed", 100, 2)
    assert done.logs is not None
    assert [(e.type, e.message) for e in done.logs] == [
        ("info", "Initializing..."),
        ("info", "Task completed successfully"),
    ]
    assert done.last_heartbeat is not None


@pytest.mark.parametrize("progress", [-1, 101, "50", 1.5, None, 2**63])
async def test_progress_out_of_range_is_refused_before_sql(
    conn: cadb.Connection, user: cadb.User, progress: object
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_task_progress(
            user_id=user.id,
            task_id=task.id,
            progress=progress,  # type: ignore[arg-type]
            message="m",
            conn=conn,
        )
    assert caught.value.field == "progress"


async def test_progress_of_another_users_task_is_not_found(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.update_task_progress(
            user_id=other_user.id, task_id=task.id, progress=5, message="m", conn=conn
        )
    assert (await current(user.id, task.id, conn)).progress == 0


# ---------------------------------------------------------------- sub-agents


async def test_sub_agent_start_update_complete_like_the_task_logger(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    explore = await cadb.start_sub_agent(
        user_id=user.id, task_id=task.id, name="Explore", description="read the code", conn=conn
    )
    plan = await cadb.start_sub_agent(user_id=user.id, task_id=task.id, name="Plan", conn=conn)
    started = await current(user.id, task.id, conn)
    assert started.sub_agent_activity is not None
    assert [(a.id, a.name, a.status) for a in started.sub_agent_activity] == [
        (explore, "Explore", "starting"),
        (plan, "Plan", "starting"),
    ]
    assert started.sub_agent_activity[0].description == "read the code"
    assert isinstance(started.sub_agent_activity[0].started_at, datetime)
    assert started.current_sub_agent == "Plan"

    await cadb.update_sub_agent(user_id=user.id, task_id=task.id, sub_agent_id=explore, conn=conn)
    await cadb.complete_sub_agent(user_id=user.id, task_id=task.id, sub_agent_id=plan, conn=conn)
    middle = await current(user.id, task.id, conn)
    assert middle.sub_agent_activity is not None
    assert [a.status for a in middle.sub_agent_activity] == ["running", "completed"]
    assert middle.sub_agent_activity[1].completed_at is not None
    assert middle.current_sub_agent == "Explore"  # the other one still running

    await cadb.complete_sub_agent(
        user_id=user.id, task_id=task.id, sub_agent_id=explore, success=False, conn=conn
    )
    done = await current(user.id, task.id, conn)
    assert done.sub_agent_activity is not None
    assert [a.status for a in done.sub_agent_activity] == ["error", "completed"]
    assert done.current_sub_agent is None
    assert done.logs is not None
    assert [(e.type, e.message) for e in done.logs] == [
        ("subagent", "Sub-agent started: Explore - read the code"),
        ("subagent", "Sub-agent started: Plan"),
        ("subagent", "Sub-agent completed: Plan"),
        ("subagent", "Sub-agent failed: Explore"),
    ]
    source = done.logs[2].agent_source
    assert source is not None
    assert (source.name, source.is_sub_agent, source.parent_agent, source.sub_agent_id) == (
        "Plan",
        True,
        "primary",
        plan,
    )


async def test_twenty_sub_agents_updating_their_own_elements_at_once_lose_nothing(
    user: cadb.User,
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"))
    ids = await asyncio.gather(
        *(cadb.start_sub_agent(user_id=user.id, task_id=task.id, name=f"a{n}") for n in range(20))
    )
    await asyncio.gather(
        *(cadb.update_sub_agent(user_id=user.id, task_id=task.id, sub_agent_id=i) for i in ids)
    )
    running = await cadb.get_task(user_id=user.id, task_id=task.id)
    assert running is not None
    assert running.sub_agent_activity is not None
    assert sorted(a.id for a in running.sub_agent_activity) == sorted(ids)
    assert {a.status for a in running.sub_agent_activity} == {"running"}

    await asyncio.gather(
        *(cadb.complete_sub_agent(user_id=user.id, task_id=task.id, sub_agent_id=i) for i in ids)
    )
    done = await cadb.get_task(user_id=user.id, task_id=task.id)
    assert done is not None
    assert done.sub_agent_activity is not None
    assert done.logs is not None
    assert len(done.sub_agent_activity) == 20
    assert {a.status for a in done.sub_agent_activity} == {"completed"}
    assert all(a.completed_at is not None for a in done.sub_agent_activity)
    assert done.current_sub_agent is None
    assert len(done.logs) == 40  # 20 starts + 20 completions


async def test_an_unknown_sub_agent_or_another_users_task_is_not_found(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    agent = await cadb.start_sub_agent(user_id=user.id, task_id=task.id, name="A", conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.update_sub_agent(
            user_id=user.id, task_id=task.id, sub_agent_id=new_id(), conn=conn
        )
    with pytest.raises(cadb.NotFoundError):
        await cadb.complete_sub_agent(
            user_id=other_user.id, task_id=task.id, sub_agent_id=agent, conn=conn
        )
    with pytest.raises(cadb.NotFoundError):
        await cadb.start_sub_agent(user_id=other_user.id, task_id=task.id, name="B", conn=conn)
    unchanged = await current(user.id, task.id, conn)
    assert unchanged.sub_agent_activity is not None
    assert [(a.name, a.status) for a in unchanged.sub_agent_activity] == [("A", "starting")]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "A", "description": "d" * 501}, "description"),
        ({"name": "A", "parent_agent": 7}, "parent_agent"),
    ],
)
async def test_bad_sub_agent_input_is_refused_naming_the_field(
    conn: cadb.Connection, user: cadb.User, arguments: dict[str, object], field: str
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.start_sub_agent(
            user_id=user.id,
            task_id=task.id,
            conn=conn,
            **arguments,  # type: ignore[arg-type]
        )
    assert caught.value.field == field
    with pytest.raises(cadb.ValidationError) as status:
        await cadb.update_sub_agent(
            user_id=user.id,
            task_id=task.id,
            sub_agent_id="x",
            status="done",  # type: ignore[arg-type]
            conn=conn,
        )
    assert status.value.field == "status"


# ---------------------------------------------------------------- creation


async def test_create_task_records_the_prompt_as_first_message_counted_once(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 1)
    async with recorded_queries(conn) as sent:
        task = await cadb.create_task(
            user_id=user.id, task=cadb.NewTask(prompt="Fix the flaky test"), conn=conn
        )
    assert len(sent) == 1
    (prompt,) = await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn)
    assert (prompt.id, prompt.role, prompt.content) == (task.id, "user", "Fix the flaky test")
    limit = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    assert (limit.used, limit.remaining, limit.allowed) == (1, 0, False)


async def test_a_task_refused_by_the_limit_leaves_no_prompt_message(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 0)
    with pytest.raises(cadb.RateLimitExceededError):
        await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    assert await cadb.list_tasks(user_id=user.id, conn=conn) == []
    assert await used(user.id, conn) == 0


async def test_a_caller_supplied_task_id_is_used_and_unique_per_user(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task_id = f"client-{new_id()}"
    task = await cadb.create_task(
        user_id=user.id, task=cadb.NewTask(id=task_id, prompt="p"), conn=conn
    )
    assert task.id == task_id
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_task(
            user_id=user.id, task=cadb.NewTask(id=task_id, prompt="again"), conn=conn
        )
    assert caught.value.field == "id"
    assert await used(user.id, conn) == 1
    # A task is keyed by its user and id (the key a schema distributed by user
    # can keep): another user's task of the same id is theirs alone.
    theirs = await cadb.create_task(
        user_id=other_user.id, task=cadb.NewTask(id=task_id, prompt="theirs"), conn=conn
    )
    assert (theirs.id, theirs.user_id) == (task_id, other_user.id)
    mine = await cadb.get_task(user_id=user.id, task_id=task_id, conn=conn)
    assert mine is not None
    assert mine.prompt == "p"
    assert [t.id for t in await cadb.list_tasks(user_id=user.id, conn=conn)] == [task_id]


@pytest.mark.parametrize("task_id", ["", "a b", "../x", "x" * 65, "a\x00b", "\ud800", 7])
async def test_a_malformed_task_id_is_refused_before_sql(
    conn: cadb.Connection, user: cadb.User, task_id: object
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_task(
            user_id=user.id,
            task=cadb.NewTask(id=task_id, prompt="p"),  # type: ignore[arg-type]
            conn=conn,
        )
    assert caught.value.field == "id"


# ---------------------------------------------------------------- defaults


async def test_the_admin_tier_gets_100_a_day_whatever_their_setting(
    conn: cadb.Connection, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXT_PUBLIC_ADMIN_EMAIL_DOMAINS", " example.org , @Vercel.com")
    admin = await make_user(email="Jane@vercel.COM")
    other_admin = await make_user(email="ops@example.org")
    outsider = await make_user(email="jane@notvercel.com.evil")
    no_email = await make_user()
    await allow(admin.id, 1)

    async def total(user: cadb.User) -> int:
        return (await cadb.check_rate_limit(user_id=user.id, conn=conn)).total

    assert [await total(u) for u in (admin, other_admin, outsider, no_email)] == [
        100,
        100,
        20,
        20,
    ]
    # Enforced too: the admin's setting of 1 does not apply.
    for _ in range(2):
        await cadb.create_task(user_id=admin.id, task=cadb.NewTask(prompt="p"), conn=conn)
    monkeypatch.delenv("NEXT_PUBLIC_ADMIN_EMAIL_DOMAINS")
    assert await total(admin) == 1
    with pytest.raises(cadb.RateLimitExceededError):
        await cadb.create_task(user_id=admin.id, task=cadb.NewTask(prompt="p"), conn=conn)


async def test_the_default_limit_is_the_apps_20(conn: cadb.Connection, user: cadb.User) -> None:
    assert cadb.DEFAULT_MAX_MESSAGES_PER_DAY == 20
    assert cadb.ADMIN_MAX_MESSAGES_PER_DAY == 100
    assert (await cadb.check_rate_limit(user_id=user.id, conn=conn)).total == 20


async def test_a_new_connector_is_connected_like_the_apps(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(name="linear", base_url="https://mcp.linear.app/sse"),
        conn=conn,
    )
    assert connector.status == "connected"


# ---------------------------------------------------------------- logs and setters


async def test_clear_task_logs_empties_the_log_like_the_endpoint(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    entries = [cadb.LogEntry(type="info", message="one"), cadb.LogEntry(type="info", message="2")]
    await cadb.append_task_logs(user_id=user.id, task_id=task.id, entries=entries, conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.clear_task_logs(user_id=other_user.id, task_id=task.id, conn=conn)
    assert len((await current(user.id, task.id, conn)).logs or []) == 2

    await cadb.clear_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    assert (await current(user.id, task.id, conn)).logs == []
    assert await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn) == []


async def test_title_and_agent_session_setters_keep_the_value_given_none(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    await cadb.update_task_title(user_id=user.id, task_id=task.id, title="Fix login", conn=conn)
    await cadb.update_task_agent_session(
        user_id=user.id, task_id=task.id, agent_session_id="sess-1", conn=conn
    )
    await cadb.update_task_title(user_id=user.id, task_id=task.id, title=None, conn=conn)
    await cadb.update_task_agent_session(
        user_id=user.id, task_id=task.id, agent_session_id=None, conn=conn
    )
    kept = await current(user.id, task.id, conn)
    assert (kept.title, kept.agent_session_id) == ("Fix login", "sess-1")


# ---------------------------------------------------------------- rows the app wrote


async def test_sub_agents_the_app_wrote_are_read_and_updated_in_place(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    written_by_the_app = [
        {
            "id": "cuid2aaaaaaaaaaaaaaaaaaaa",
            "name": "Explore",
            "type": "explore",
            "status": "starting",
            "startedAt": "2025-10-01T12:00:00.000Z",
            "description": "look around",
        },
        {
            "id": "cuid2bbbbbbbbbbbbbbbbbbbb",
            "name": "Plan",
            "status": "running",
            "startedAt": "2025-10-01T12:00:01.000Z",
        },
    ]
    await checks.set_raw_sub_agent_activity(conn, task_id=task.id, activity=written_by_the_app)

    await cadb.complete_sub_agent(
        user_id=user.id, task_id=task.id, sub_agent_id="cuid2bbbbbbbbbbbbbbbbbbbb", conn=conn
    )

    after = await current(user.id, task.id, conn)
    assert after.sub_agent_activity is not None
    explore, plan = after.sub_agent_activity
    assert (explore.status, explore.type, explore.description) == (
        "starting",
        "explore",
        "look around",
    )
    assert (plan.status, plan.completed_at is not None) == ("completed", True)
    assert after.current_sub_agent == "Explore"


async def test_a_prompt_message_the_app_saved_counts_as_the_app_counts_it(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    assert await used(user.id, conn) == 1
    # The app's process-task saves the prompt again under a random id: that row counts.
    await checks.insert_raw_app_message(
        conn, id=new_id(), user_id=user.id, task_id=task.id, content="p"
    )
    assert await used(user.id, conn) == 2


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("content", ["", " \n", "a\x00b", "\udc80", 7, None, "x" * 100_001])
async def test_continue_task_refuses_hostile_content_before_sql(
    conn: cadb.Connection, user: cadb.User, content: object
) -> None:
    task = await finished_task(user.id, conn)
    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as caught:
            await cadb.continue_task(
                user_id=user.id,
                task_id=task.id,
                content=content,  # type: ignore[arg-type]
                conn=conn,
            )
    assert caught.value.field == "content"
    assert sent == []


async def test_a_progress_message_with_raw_bytes_and_secrets_is_cleaned_not_refused(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    await cadb.update_task_progress(
        user_id=user.id,
        task_id=task.id,
        progress=42,
        message="a\x00b \ud800 ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwx "
        + "z" * 3000,
        conn=conn,
    )
    (entry,) = (await current(user.id, task.id, conn)).logs or []
    assert entry.message.startswith("a\ufffdb \ufffd ")
    assert "sk-ant-api03" not in entry.message
    assert len(entry.message) <= cadb.MAX_LOG_MESSAGE_LENGTH


@pytest.mark.parametrize("success", ["yes", 1, None])
async def test_complete_sub_agent_refuses_a_success_that_is_not_a_boolean(
    conn: cadb.Connection, user: cadb.User, success: object
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    agent = await cadb.start_sub_agent(user_id=user.id, task_id=task.id, name="A", conn=conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.complete_sub_agent(
            user_id=user.id,
            task_id=task.id,
            sub_agent_id=agent,
            success=success,  # type: ignore[arg-type]
            conn=conn,
        )
    assert caught.value.field == "success"


@pytest.mark.parametrize("sub_agent_id", ["", "a\x00", "a\ud800", "x" * 256])
async def test_a_sub_agent_id_that_cannot_exist_is_not_found_without_sql(
    conn: cadb.Connection, user: cadb.User, sub_agent_id: str
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    async with recorded_queries(conn) as sent:
        for call in (cadb.update_sub_agent, cadb.complete_sub_agent):
            with pytest.raises(cadb.NotFoundError, match="no such sub-agent"):
                await call(user_id=user.id, task_id=task.id, sub_agent_id=sub_agent_id, conn=conn)
    assert sent == []


async def test_a_sub_agent_id_of_the_wrong_type_is_refused_before_sql(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    async with recorded_queries(conn) as sent:
        for call in (cadb.update_sub_agent, cadb.complete_sub_agent):
            with pytest.raises(cadb.ValidationError) as caught:
                await call(
                    user_id=user.id,
                    task_id=task.id,
                    sub_agent_id=5,  # type: ignore[arg-type]
                    conn=conn,
                )
            assert caught.value.field == "sub_agent_id"
    assert sent == []
