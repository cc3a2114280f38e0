"""The daily limit: tasks created + user messages sent per UTC day, soft-deleted tasks excluded."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta

import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from coding_agent_db.sql import queries
from tests.conftest import checks
from tests.plans import index_keys, leads_with_the_user, parsed_plan, scanned_indexes

EXPLAIN = "EXPLAIN (FORMAT JSON) "


def next_utc_midnight() -> datetime:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=UTC)


def assert_next_utc_midnight(reset_at: datetime, expected_before: datetime) -> None:
    """``reset_at`` is the next UTC midnight (as seen before or after the call)."""
    assert reset_at.tzinfo is not None
    assert reset_at.utcoffset() is not None
    assert reset_at in {expected_before, next_utc_midnight()}


async def allow(user_id: str, per_day: int) -> None:
    await cadb.set_setting(user_id=user_id, key="maxMessagesPerDay", value=str(per_day))


async def new_task(user_id: str, conn: cadb.Connection | None = None) -> cadb.Task:
    return await cadb.create_task(user_id=user_id, task=cadb.NewTask(prompt="p"), conn=conn)


async def used(user_id: str, conn: cadb.Connection) -> int:
    return (await cadb.check_rate_limit(user_id=user_id, conn=conn)).used


# ---------------------------------------------------------------- check_rate_limit


async def test_check_rate_limit_reports_a_fresh_users_full_allowance(
    conn: cadb.Connection, user: cadb.User
) -> None:
    expected_reset = next_utc_midnight()
    limit = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    assert (limit.allowed, limit.remaining, limit.used, limit.total) == (True, 20, 0, 20)
    assert_next_utc_midnight(limit.reset_at, expected_reset)


async def test_check_rate_limit_counts_tasks_and_user_messages(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 10)
    first = await new_task(user.id, conn)
    await new_task(user.id, conn)
    await cadb.create_user_message(user_id=user.id, task_id=first.id, content="more", conn=conn)

    limit = await cadb.check_rate_limit(user_id=user.id, conn=conn)

    assert (limit.allowed, limit.remaining, limit.used, limit.total) == (True, 7, 3, 10)


async def test_check_rate_limit_says_not_allowed_when_used_up(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 2)
    task = await new_task(user.id, conn)
    await cadb.create_user_message(user_id=user.id, task_id=task.id, content="m", conn=conn)
    limit = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    assert (limit.allowed, limit.remaining, limit.used, limit.total) == (False, 0, 2, 2)


async def test_remaining_never_goes_below_zero_when_the_limit_is_lowered(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 3)
    for _ in range(3):
        await new_task(user.id, conn)
    await allow(user.id, 1)
    limit = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    assert (limit.allowed, limit.remaining, limit.used, limit.total) == (False, 0, 3, 1)


async def test_agent_messages_never_count(conn: cadb.Connection, user: cadb.User) -> None:
    task = await new_task(user.id, conn)
    for _ in range(3):
        reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta="done", conn=conn
        )
    assert await used(user.id, conn) == 1


async def test_a_deleted_task_and_its_user_messages_no_longer_count(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 10)
    kept = await new_task(user.id, conn)
    deleted = await new_task(user.id, conn)
    await cadb.create_user_message(user_id=user.id, task_id=kept.id, content="a", conn=conn)
    for content in ("b", "c"):
        await cadb.create_user_message(
            user_id=user.id, task_id=deleted.id, content=content, conn=conn
        )
    assert await used(user.id, conn) == 5

    await cadb.delete_task(user_id=user.id, task_id=deleted.id, conn=conn)

    assert await used(user.id, conn) == 2


async def test_yesterdays_tasks_and_messages_do_not_count(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 10)
    old = await new_task(user.id, conn)
    old_message = await cadb.create_user_message(
        user_id=user.id, task_id=old.id, content="old", conn=conn
    )
    today = await new_task(user.id, conn)
    old_message_on_todays_task = await cadb.create_user_message(
        user_id=user.id, task_id=today.id, content="old too", conn=conn
    )
    await cadb.create_user_message(user_id=user.id, task_id=today.id, content="new", conn=conn)
    assert await used(user.id, conn) == 5

    midnight = next_utc_midnight() - timedelta(days=1)
    just_before = midnight - timedelta(microseconds=1)
    await checks.set_raw_task_dates(conn, task_id=old.id, created_at=just_before, deleted_at=None)
    for message in (old_message, old_message_on_todays_task):
        await checks.set_raw_message_created_at(conn, message_id=message.id, created_at=just_before)

    assert await used(user.id, conn) == 2


async def test_todays_message_on_yesterdays_task_counts(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await new_task(user.id, conn)
    await checks.set_raw_task_dates(
        conn, task_id=task.id, created_at=datetime.now(UTC) - timedelta(days=2), deleted_at=None
    )
    await cadb.create_user_message(user_id=user.id, task_id=task.id, content="hi", conn=conn)
    assert await used(user.id, conn) == 1


async def test_check_rate_limit_of_an_unknown_user_raises_not_found(
    conn: cadb.Connection,
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.check_rate_limit(user_id=new_id(), conn=conn)


# ---------------------------------------------------------------- which limit applies


async def test_the_default_limit_is_20_like_the_apps(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAX_MESSAGES_PER_DAY", raising=False)
    assert (await cadb.check_rate_limit(user_id=user.id, conn=conn)).total == 20
    assert await cadb.max_messages_per_day(user_id=user.id, conn=conn) == 20


async def test_the_environment_overrides_the_default(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_MESSAGES_PER_DAY", "7")
    assert (await cadb.check_rate_limit(user_id=user.id, conn=conn)).total == 7
    assert await cadb.max_messages_per_day(user_id=user.id, conn=conn) == 7


async def test_the_users_setting_overrides_the_environment(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_MESSAGES_PER_DAY", "7")
    await allow(user.id, 3)
    assert (await cadb.check_rate_limit(user_id=user.id, conn=conn)).total == 3
    assert await cadb.max_messages_per_day(user_id=user.id, conn=conn) == 3


async def test_a_malformed_environment_limit_is_a_configuration_error(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_MESSAGES_PER_DAY", "ten")
    with pytest.raises(cadb.ConfigurationError, match="MAX_MESSAGES_PER_DAY"):
        await cadb.check_rate_limit(user_id=user.id, conn=conn)
    with pytest.raises(cadb.ConfigurationError, match="MAX_MESSAGES_PER_DAY"):
        await new_task(user.id, conn)
    assert await cadb.list_tasks(user_id=user.id, conn=conn) == []


async def test_the_environment_limit_is_enforced_on_create(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_MESSAGES_PER_DAY", "1")
    await new_task(user.id, conn)
    with pytest.raises(cadb.RateLimitExceededError) as caught:
        await new_task(user.id, conn)
    assert caught.value.total == 1


async def test_a_limit_of_zero_refuses_everything(conn: cadb.Connection, user: cadb.User) -> None:
    await allow(user.id, 0)
    limit = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    assert (limit.allowed, limit.remaining, limit.total) == (False, 0, 0)
    with pytest.raises(cadb.RateLimitExceededError):
        await new_task(user.id, conn)


@pytest.mark.parametrize("value", ["lots", "-1", "1.5", "10 tasks", " "])
async def test_set_setting_refuses_a_limit_that_is_not_a_whole_number(
    conn: cadb.Connection, user: cadb.User, value: str
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.set_setting(user_id=user.id, key="maxMessagesPerDay", value=value, conn=conn)
    assert caught.value.field == "value"
    assert await cadb.get_setting(user_id=user.id, key="maxMessagesPerDay", conn=conn) is None
    assert (await cadb.check_rate_limit(user_id=user.id, conn=conn)).total == 20


async def test_a_stored_limit_that_is_not_a_number_falls_back_to_the_environment(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_MESSAGES_PER_DAY", "4")
    await checks.insert_raw_limit_setting(conn, id=new_id(), user_id=user.id, value="unlimited")
    assert (await cadb.check_rate_limit(user_id=user.id, conn=conn)).total == 4
    for _ in range(4):
        await new_task(user.id, conn)
    with pytest.raises(cadb.RateLimitExceededError) as caught:
        await new_task(user.id, conn)
    assert caught.value.total == 4


# ---------------------------------------------------------------- refusals


async def test_create_task_is_refused_once_the_limit_is_used_up(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 2)
    await new_task(user.id, conn)
    await new_task(user.id, conn)
    expected_reset = next_utc_midnight()

    with pytest.raises(cadb.RateLimitExceededError) as caught:
        await new_task(user.id, conn)

    assert (caught.value.remaining, caught.value.total) == (0, 2)
    assert_next_utc_midnight(caught.value.reset_at, expected_reset)
    assert len(await cadb.list_tasks(user_id=user.id, conn=conn)) == 2


async def test_the_limit_holds_for_50_simultaneous_creates(user: cadb.User) -> None:
    await allow(user.id, 10)
    expected_reset = next_utc_midnight()

    results = await asyncio.gather(*(new_task(user.id) for _ in range(50)), return_exceptions=True)

    created = [result for result in results if isinstance(result, cadb.Task)]
    refused = [result for result in results if isinstance(result, cadb.RateLimitExceededError)]
    assert len(created) == 10
    assert len(refused) == 40
    for error in refused:
        assert (error.remaining, error.total) == (0, 10)
        assert_next_utc_midnight(error.reset_at, expected_reset)
    listed = await cadb.list_tasks(user_id=user.id, limit=100)
    assert sorted(task.id for task in listed) == sorted(task.id for task in created)
    assert (await cadb.check_rate_limit(user_id=user.id)).used == 10


async def test_the_limit_holds_for_simultaneous_tasks_and_messages(user: cadb.User) -> None:
    await allow(user.id, 10)
    task = await new_task(user.id)

    results = await asyncio.gather(
        *(
            cadb.create_user_message(user_id=user.id, task_id=task.id, content=f"m{n}")
            for n in range(15)
        ),
        *(new_task(user.id) for _ in range(15)),
        return_exceptions=True,
    )

    accepted = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, cadb.RateLimitExceededError)]
    assert len(accepted) == 9
    assert len(refused) == 21
    assert (await cadb.check_rate_limit(user_id=user.id)).used == 10


async def test_deleting_a_task_frees_room_under_the_limit(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 1)
    task = await new_task(user.id, conn)
    with pytest.raises(cadb.RateLimitExceededError):
        await new_task(user.id, conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    await new_task(user.id, conn)


# ---------------------------------------------------------------- the plan


async def test_the_rate_limit_statement_uses_no_sequential_scan_at_100k_tasks(
    bulk_tasks: cadb.Connection,
) -> None:
    # The statement works on the bulk data: the user's setting is found, and of
    # their tasks (one an hour back from now) only today's count, with their messages.
    usage = await cadb.check_rate_limit(user_id="bulk-7", conn=bulk_tasks)
    assert usage.total == 50
    assert usage.used % 2 == 0
    assert usage.used <= 2 * 24

    custom = parsed_plan(
        await bulk_tasks.fetchval(EXPLAIN + queries.get_daily_usage.sql, 20, [], 100, "bulk-7")
    )
    await checks.use_generic_plans(bulk_tasks)
    await checks.create_generic_plan_function(bulk_tasks)
    generic = parsed_plan(
        await checks.explain_generic_plan(
            bulk_tasks,
            statement=queries.get_daily_usage.sql,
            arguments=["20", "{}", "100", "bulk-7"],
        )
    )

    # The generic plan is planned without the value: its conditions name $4 (user_id).
    assert any("$4" in node.get("Index Cond", node.get("Filter", "")) for node in generic)
    keys = await index_keys(bulk_tasks)
    for plan in (custom, generic):
        # The task tables grow with the work: they are only ever searched by index.
        # (A hash partition of users, 1/8 of 2,000 rows, may be read whole.)
        seq_scanned = [node["Relation Name"] for node in plan if node["Node Type"] == "Seq Scan"]
        assert [name for name in seq_scanned if not re.fullmatch(r"users_p\d+", name)] == []
        scanned = [keys[name] for name in scanned_indexes(plan)]
        # Every index is searched by the user first: one user's rows, on one node
        # of a schema distributed by user.
        assert all(leads_with_the_user(key) for key in scanned), scanned
        tables = [key.table_name for key in scanned]
        assert any(table.startswith("task_messages") for table in tables), tables
        # The user's live tasks are counted from their index; each counted message's
        # task is a probe into the index of deleted tasks, not a rescan of the
        # user's tasks per message.
        assert any(key.predicate == "deleted_at IS NULL" for key in scanned), scanned
        assert any(key.predicate == "deleted_at IS NOT NULL" for key in scanned), scanned
