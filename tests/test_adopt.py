"""Adoption of the TypeScript app's database (coding_agent_db.adopt).

Each test builds the app's schema from its real drizzle migrations in a
database of its own, fills it the app's way (tests/adoption.py), adopts it
and checks the outcome through the public API.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest

import coding_agent_db as cadb
from coding_agent_db.adopt import (
    CHECKS_DIR,
    AdoptionRefusedError,
    AdoptionReport,
    NotAdoptableError,
    PlanStep,
    _baseline,
    adopt,
    format_report,
    load_plan,
    remove_shims,
)
from coding_agent_db.migrate import _backend, pending_migrations
from coding_agent_db.models import read_documents
from tests.adoption import AppData, app_id, build_app_schema, fill_app_data
from tests.conftest import FreshDatabase, checks


async def run_adopt(url: str, **options: Any) -> AdoptionReport:
    return await asyncio.to_thread(adopt, url, **options)


@pytest.fixture
async def app_database(fresh_database: FreshDatabase) -> str:
    """A database in the shape of the app's drizzle migrations 0000-0024, no rows."""
    url = fresh_database(migrated=False)
    await build_app_schema(url)
    return url


@pytest.fixture
async def pool_for() -> AsyncIterator[Callable[[str], Any]]:
    pools: list[asyncpg.Pool[asyncpg.Record]] = []

    async def make(url: str) -> asyncpg.Pool[asyncpg.Record]:
        pool = await cadb.create_pool(url)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.close()


async def fingerprint(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        text = await checks.schema_fingerprint(conn)
    finally:
        await conn.close()
    result: dict[str, Any] = json.loads(text)
    return result


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        # The adopt module's own count of every table.
        row = await conn.fetchrow((CHECKS_DIR / "counts.sql").read_text())
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


def as_instant(value: Any) -> datetime:
    """A JSON ISO timestamp or a datetime, as an aware datetime."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# ---------------------------------------------------------------- the whole round trip


async def test_adopted_database_reads_back_every_row_the_app_wrote(
    app_database: str, pool_for: Callable[[str], Any]
) -> None:
    data: AppData = await fill_app_data(app_database, users=4, tasks_per_user=3)
    before = await counts(app_database)

    report = await run_adopt(app_database)

    assert report.refusals == ()  # nothing the app wrote is refused
    assert (report.app_schema, report.drizzle_migrations) == ("0024", 25)
    assert report.rows_before == before
    assert await counts(app_database) == before
    assert [name[:4] for name in report.marked] == [f"{n:04d}" for n in range(1, 11)]
    assert pending_migrations(app_database) == []
    conn = await asyncpg.connect(app_database)
    try:
        assert await checks.count_drizzle_migrations(conn) == 25  # drizzle's journal intact
    finally:
        await conn.close()

    pool = await pool_for(app_database)
    for user in data.users:
        stored = await cadb.get_user(user_id=user.id, conn=pool)
        assert stored is not None
        assert stored.created_at == user.created_at  # timestamp read as UTC
        assert stored.created_at.tzinfo is not None
        tokens = await cadb.get_user_tokens(user_id=user.id, conn=pool)
        assert tokens is not None
        assert tokens.access_token == user.access_token
        assert tokens.refresh_token == user.refresh_token
        if user.account_token is not None:
            account = await cadb.get_account_tokens(user_id=user.id, conn=pool)
            assert account is not None
            assert account.access_token == user.account_token
        revealed = await cadb.reveal_keys(user_id=user.id, conn=pool)
        assert revealed.values == user.keys
        assert revealed.unreadable == ()
        for connector_id, (secret, env) in user.connector_secrets.items():
            launch = await cadb.get_connector_launch(
                user_id=user.id, connector_id=connector_id, conn=pool
            )
            assert launch is not None
            assert launch.oauth_client_secret == secret
            assert launch.env == env
        listed = await cadb.list_connectors(user_id=user.id, conn=pool)
        assert len(listed) == 2
        assert not any(connector.unreadable for connector in listed)
        owner = await cadb.authenticate_api_token(user.raw_api_token, conn=pool)
        assert owner is not None
        assert owner.id == user.id
        assert await cadb.max_messages_per_day(user_id=user.id, conn=pool) == int(
            user.settings["maxMessagesPerDay"]
        )
        summaries = await cadb.list_tasks(user_id=user.id, conn=pool)
        assert {task.id for task in summaries} == set(user.task_ids)
        for task_id in user.task_ids:
            task = await cadb.get_task(user_id=user.id, task_id=task_id, conn=pool)
            assert task is not None
            assert task.enable_browser is False
            expected_logs = data.logs[task_id]
            assert task.logs is not None
            assert [entry.message for entry in task.logs] == [e["message"] for e in expected_logs]
            assert [entry.type for entry in task.logs] == [e["type"] for e in expected_logs]
            assert [entry.timestamp for entry in task.logs] == [
                as_instant(e["timestamp"]) for e in expected_logs
            ]
            assert task.sub_agent_activity is not None
            (activity,) = task.sub_agent_activity
            assert str(activity.status) == "starting"  # the app's status, kept
            assert activity.type == "explore"
            async with pool.acquire() as raw:
                documents = await checks.app_get_raw_documents(raw, task_id=task_id)
            assert json.loads(documents["logs"]) == expected_logs
            assert json.loads(documents["sub_agent_activity"]) == data.sub_agents[task_id]
            messages = await cadb.list_task_messages(user_id=user.id, task_id=task_id, conn=pool)
            assert [message.id for message in messages] == user.message_ids[task_id]
            assert {message.user_id for message in messages} == {user.id}
            assert [message.content for message in messages] == ["please fix it", "done: see PR"]


async def test_message_user_id_backfill_goes_on_batch_after_batch(app_database: str) -> None:
    data = await fill_app_data(app_database, users=1, tasks_per_user=1)
    task_id = data.users[0].task_ids[0]
    conn = await asyncpg.connect(app_database)
    try:
        await checks.app_insert_many_messages(conn, task_id=task_id, count=25_000)
    finally:
        await conn.close()

    report = await run_adopt(app_database)

    backfill = next(step for step in report.steps if step.name == "07.backfill-message-user-id")
    assert backfill.runs == 4  # 25000 + 6 messages: 3 batches of 10000, then one that finds none
    conn = await asyncpg.connect(app_database)
    try:
        assert await checks.count_messages_without_user_id(conn) == 0
    finally:
        await conn.close()


# ---------------------------------------------------------------- the schema


async def test_adopted_schema_is_the_fresh_schema_of_0001_to_0010_plus_the_shims(
    app_database: str, fresh_database: FreshDatabase
) -> None:
    await fill_app_data(app_database, users=2, tasks_per_user=2)
    fresh = fresh_database(migrated=False)
    await asyncio.to_thread(_apply_baseline_only, fresh)
    await run_adopt(app_database, apply_newer=False)

    adopted = await fingerprint(app_database)
    expected = await fingerprint(fresh)
    differing = {key for key in expected if adopted[key] != expected[key]}
    # The shims for the app, and nothing else: two triggers with their
    # functions, the composite message key's ON UPDATE CASCADE, and unique
    # indexes on id alone for the app's writes by id.
    assert differing == {"constraints", "functions", "triggers", "indexes"}
    extra_indexes = {i[1] for i in adopted["indexes"]} - {i[1] for i in expected["indexes"]}
    assert extra_indexes == {
        f"{table}_id_key"
        for table in ("tasks", "task_messages", "connectors", "accounts", "api_tokens")
    }
    assert [t[0] for t in adopted["triggers"]] == [
        "task_messages_fill_user_id",
        "tasks_default_max_duration",
    ]
    extra_functions = {f[0] for f in adopted["functions"]} - {f[0] for f in expected["functions"]}
    assert extra_functions == {"adopt_fill_task_message_user_id", "adopt_default_task_max_duration"}
    changed = [c for c in adopted["constraints"] if c not in expected["constraints"]]
    assert [c[1] for c in changed] == ["task_messages_task_fkey"]
    assert "ON UPDATE CASCADE" in changed[0][2]

    await asyncio.to_thread(remove_shims, app_database)
    assert await fingerprint(app_database) == expected


def _apply_baseline_only(url: str) -> None:
    """Migrations 0001-0010 only, as a fresh database had them at release."""
    backend = _backend(url)
    with backend.lock():
        backend.apply_migrations(backend.to_apply(_baseline()))


async def test_adoption_of_the_first_schema_with_api_tokens_adds_the_later_columns(
    fresh_database: FreshDatabase,
) -> None:
    oldest = fresh_database(migrated=False)
    await build_app_schema(oldest, upto=21)  # before api_tokens.updated_at and source_branch
    newest = fresh_database(migrated=False)
    await build_app_schema(newest)
    dry = await run_adopt(oldest, dry_run=True)
    assert (dry.app_schema, dry.drizzle_migrations) == ("0021", 22)
    assert "drizzle 0021 (drizzle's journal records 22 migrations)" in format_report(dry)
    await run_adopt(oldest, apply_newer=False)
    await run_adopt(newest, apply_newer=False)
    assert await fingerprint(oldest) == await fingerprint(newest)


async def test_adoption_refuses_an_empty_database_and_a_schema_before_api_tokens(
    fresh_database: FreshDatabase,
) -> None:
    empty = fresh_database(migrated=False)
    with pytest.raises(NotAdoptableError, match="yoyo apply"):
        await run_adopt(empty)
    older = fresh_database(migrated=False)
    await build_app_schema(older, upto=20)
    with pytest.raises(NotAdoptableError, match="0021"):
        await run_adopt(older)
    assert pending_migrations(empty)  # nothing was recorded


# ---------------------------------------------------------------- bad rows and the dry run


async def test_dry_run_names_each_row_the_constraints_would_refuse_and_its_fix(
    app_database: str,
) -> None:
    data = await fill_app_data(app_database, users=1, tasks_per_user=2)
    owner = data.users[0].id
    conn = await asyncpg.connect(app_database)
    empty_id_user, local_id, remote_id, setting_id, junk_setting_id = (app_id() for _ in range(5))
    zero_task = data.users[0].task_ids[0]
    try:
        await checks.app_insert_user(
            conn,
            id=empty_id_user,
            provider="vercel",
            external_id="",  # the app's `uid || id || ''`
            access_token="x",
            refresh_token=None,
            username="nobody",
            email=None,
            created_at=datetime(2025, 1, 1),
        )
        await checks.app_insert_connector(
            conn,
            id=local_id,
            user_id=owner,
            name="no command",
            type="local",
            base_url=None,
            command=None,
            env=None,
            oauth_client_secret=None,
        )
        await checks.app_insert_connector(
            conn,
            id=remote_id,
            user_id=owner,
            name="no url",
            type="remote",
            base_url=None,
            command=None,
            env=None,
            oauth_client_secret=None,
        )
        await checks.app_set_task_max_duration(conn, task_id=zero_task, max_duration=0)
        # maxMessagesPerDay is already set for the owner: a second user holds the odd values.
        await checks.app_insert_user(
            conn,
            id="settings-user",
            provider="github",
            external_id="777",
            access_token="x",
            refresh_token=None,
            username="numbers",
            email=None,
            created_at=datetime(2025, 1, 1),
        )
        await checks.app_insert_setting(
            conn, id=setting_id, user_id="settings-user", key="maxMessagesPerDay", value="25abc"
        )
        await checks.app_insert_setting(
            conn, id=junk_setting_id, user_id=owner, key="maxMessages", value="n/a"
        )
    finally:
        await conn.close()
    schema_before = await fingerprint(app_database)

    report = await run_adopt(app_database, dry_run=True)

    found = {(r.table_name, r.row_id, r.rule): r for r in report.refusals}
    assert found[("users", empty_id_user, "users_external_id_check")].action == "stop"
    assert found[("connectors", local_id, "connectors_type_target_check")].action == "stop"
    assert found[("connectors", remote_id, "connectors_type_target_check")].action == "stop"
    max_duration = found[("tasks", zero_task, "tasks_max_duration_check")]
    assert (max_duration.action, max_duration.fix[:11]) == ("normalise", "set to 300 ")
    setting = found[("settings", setting_id, "maxMessagesPerDay")]
    assert setting.action == "normalise"
    assert "'25'" in setting.fix
    assert len(report.refusals) == 5  # the app's good rows are not named
    text = format_report(report)
    for row_id in (empty_id_user, local_id, remote_id, zero_task, setting_id):
        assert row_id in text
    assert "lock: ACCESS EXCLUSIVE" in text
    assert "lock: SHARE UPDATE EXCLUSIVE on tasks" in text
    assert "scans tasks" in text
    assert await fingerprint(app_database) == schema_before  # the dry run changed nothing

    with pytest.raises(AdoptionRefusedError) as refused:
        await run_adopt(app_database)
    assert {r.row_id for r in refused.value.refusals if r.action == "stop"} == {
        empty_id_user,
        local_id,
        remote_id,
    }
    assert await fingerprint(app_database) == schema_before  # stopped before any change

    conn = await asyncpg.connect(app_database)
    try:
        await checks.app_delete_user(conn, user_id=empty_id_user)
        await checks.app_delete_connector(conn, connector_id=local_id)
        await checks.app_delete_connector(conn, connector_id=remote_id)
    finally:
        await conn.close()
    report = await run_adopt(app_database)
    assert {r.action for r in report.refusals} == {"normalise"}
    conn = await asyncpg.connect(app_database)
    try:
        assert await checks.app_get_task_max_duration(conn, task_id=zero_task) == 300
        assert await checks.app_get_setting_value(conn, setting_id=setting_id) == "25"
        assert await checks.app_get_setting_value(conn, setting_id=junk_setting_id) == "n/a"
    finally:
        await conn.close()


# ---------------------------------------------------------------- rerunning


class Interrupted(Exception):
    """Stands for a kill between two steps."""


def stop_before(name_prefix: str) -> Callable[[PlanStep], None]:
    def check(step: PlanStep) -> None:
        if step.name.startswith(name_prefix):
            raise Interrupted(step.name)

    return check


@pytest.mark.parametrize("interrupt_at", ["04", "08", "09", "12", "17", "23"])
async def test_adoption_interrupted_between_steps_then_rerun_reaches_the_same_end_state(
    interrupt_at: str, fresh_database: FreshDatabase
) -> None:
    reference = fresh_database(migrated=False)
    await build_app_schema(reference)
    await fill_app_data(reference, users=2, tasks_per_user=2)
    await run_adopt(reference)

    url = fresh_database(migrated=False)
    await build_app_schema(url)
    await fill_app_data(url, users=2, tasks_per_user=2)
    before = await counts(url)
    with pytest.raises(Interrupted):
        await run_adopt(url, on_step=stop_before(interrupt_at))
    assert pending_migrations(url)  # not recorded as adopted yet

    report = await run_adopt(url)
    assert not report.already_adopted
    assert await fingerprint(url) == await fingerprint(reference)
    assert await counts(url) == before
    assert pending_migrations(url) == []


async def test_adoption_killed_mid_step_then_rerun_reaches_the_same_end_state(
    fresh_database: FreshDatabase,
) -> None:
    reference = fresh_database(migrated=False)
    await build_app_schema(reference)
    await fill_app_data(reference, users=2, tasks_per_user=2)
    await run_adopt(reference)
    url = fresh_database(migrated=False)
    await build_app_schema(url)
    data = await fill_app_data(url, users=2, tasks_per_user=2)
    conn = await asyncpg.connect(url)
    try:
        # Enough messages that the backfill is still running when the kill comes.
        await checks.app_insert_many_messages(conn, task_id=data.users[0].task_ids[0], count=60_000)
    finally:
        await conn.close()
    before = await counts(url)

    def run_and_kill() -> None:
        with subprocess.Popen(
            [sys.executable, "-m", "coding_agent_db.adopt", "--url", url],
            stdout=subprocess.PIPE,
            text=True,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("running 07."):
                    time.sleep(0.3)  # inside the backfill's batches
                    process.kill()
                    break
            process.wait(timeout=60)
            assert process.returncode != 0

    await asyncio.to_thread(run_and_kill)
    assert pending_migrations(url)  # killed before adoption was recorded

    report = await run_adopt(url)

    assert not report.already_adopted
    assert await fingerprint(url) == await fingerprint(reference)
    assert await counts(url) == before
    assert pending_migrations(url) == []


async def test_an_index_build_left_invalid_is_rebuilt_on_rerun(
    app_database: str, fresh_database: FreshDatabase
) -> None:
    reference = fresh_database(migrated=False)
    await build_app_schema(reference)
    await run_adopt(reference)
    await fill_app_data(app_database, users=2, tasks_per_user=2)  # prompts repeat across users
    conn = await asyncpg.connect(app_database)
    try:
        with pytest.raises(asyncpg.UniqueViolationError):
            await checks.leave_invalid_index(conn)
        assert await checks.count_invalid_indexes(conn) == 1
    finally:
        await conn.close()

    await run_adopt(app_database)

    assert await fingerprint(app_database) == await fingerprint(reference)
    conn = await asyncpg.connect(app_database)
    try:
        assert await checks.count_invalid_indexes(conn) == 0
    finally:
        await conn.close()


async def test_adoption_of_an_adopted_database_changes_nothing(app_database: str) -> None:
    await fill_app_data(app_database, users=2, tasks_per_user=2)
    await run_adopt(app_database)
    schema, rows = await fingerprint(app_database), await counts(app_database)

    again = await run_adopt(app_database)

    assert again.already_adopted
    assert again.steps == ()
    assert await fingerprint(app_database) == schema
    assert await counts(app_database) == rows
    assert pending_migrations(app_database) == []  # `yoyo apply`: nothing to do
    assert "nothing to do" in format_report(again)
    # And the README's own command, `yoyo apply --batch`, applies nothing.
    yoyo = Path(sys.executable).with_name("yoyo")
    done = await asyncio.to_thread(
        subprocess.run,
        [str(yoyo), "apply", "--batch"],
        cwd=Path(__file__).parents[1],
        env={**os.environ, "POSTGRES_URL": app_database},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert await fingerprint(app_database) == schema


def test_every_step_file_states_its_lock_and_what_it_reads() -> None:
    plan = load_plan()
    assert len(plan) >= 20
    for step in plan:
        assert step.lock.split(" on ")[0] in {
            "ACCESS EXCLUSIVE",
            "SHARE ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "ROW EXCLUSIVE",
        }, step.name
        assert step.why, step.name
    concurrent = [step for step in plan if not step.transactional]
    assert all("SHARE UPDATE EXCLUSIVE" in step.lock for step in concurrent)
    assert all(not step.rewrites for step in plan)  # no step rewrites a table


# ---------------------------------------------------------------- sharing with the app


async def test_the_apps_own_writes_still_work_after_adoption(
    app_database: str, pool_for: Callable[[str], Any]
) -> None:
    data = await fill_app_data(app_database, users=2, tasks_per_user=2)
    await run_adopt(app_database)
    first, second = data.users
    task_id = first.task_ids[0]
    conn = await asyncpg.connect(app_database)
    try:
        message_id = app_id()
        # The app inserts messages without user_id: the trigger fills it.
        await checks.app_insert_message(
            conn, id=message_id, task_id=task_id, role="user", content="one more thing"
        )
        assert await checks.app_get_message_user_id(conn, message_id=message_id) == first.id
        # A task the app creates with its defaults only, and one with max_duration 0.
        bare = app_id()
        await checks.app_insert_bare_task(conn, id=bare, user_id=first.id, prompt="bare")
        zero = app_id()
        await checks.app_insert_bare_task(conn, id=zero, user_id=first.id, prompt="zero")
        await checks.app_set_task_max_duration(conn, task_id=zero, max_duration=0)
        assert await checks.app_get_task_max_duration(conn, task_id=zero) == 300
        # The GitHub account merge moves every task to the other user.
        moved = await checks.app_merge_user_tasks(conn, old_user_id=first.id, new_user_id=second.id)
        assert moved == len(first.task_ids) + 2
        assert await checks.app_get_message_user_id(conn, message_id=message_id) == second.id
    finally:
        await conn.close()
    pool = await pool_for(app_database)
    messages = await cadb.list_task_messages(user_id=second.id, task_id=task_id, conn=pool)
    assert [m.content for m in messages][-1] == "one more thing"
    assert await cadb.list_task_messages(user_id=first.id, task_id=task_id, conn=pool) == []
    task = await cadb.get_task(user_id=second.id, task_id=bare, conn=pool)
    assert task is not None
    assert (task.max_duration, task.selected_agent, task.enable_browser) == (300, "claude", False)


async def test_while_the_app_shares_the_database_ids_stay_unique_and_its_new_rows_are_found(
    app_database: str, pool_for: Callable[[str], Any]
) -> None:
    data = await fill_app_data(app_database, users=2, tasks_per_user=1)
    await run_adopt(app_database)
    first, second = data.users
    pool = await pool_for(app_database)
    # The app writes tasks by id alone: no other user may take an id (step 24's shim).
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_task(
            user_id=second.id, task=cadb.NewTask(id=first.task_ids[0], prompt="p"), conn=pool
        )
    assert caught.value.field == "id"

    # Rows the app inserts now are indexed by the identity tables' triggers (0053).
    signed_in, linked, token_owner = app_id(), app_id(), app_id()
    raw_token = os.urandom(32).hex()
    conn = await asyncpg.connect(app_database)

    async def app_signs_in(user_id: str, external_id: str) -> None:
        await checks.app_insert_user(
            conn,
            id=user_id,
            provider="vercel",
            external_id=external_id,
            access_token="00:00",
            refresh_token=None,
            username="app",
            email=None,
            created_at=datetime.now(UTC),
        )

    try:
        for user_id, external_id in (
            (signed_in, "app-1"),
            (linked, "app-2"),
            (token_owner, "app-3"),
        ):
            await app_signs_in(user_id, external_id)
        await checks.app_insert_account(
            conn,
            id=app_id(),
            user_id=linked,
            external_user_id="777",
            access_token="00:00",
            username="octo",
        )
        await checks.app_insert_api_token(
            conn,
            id=app_id(),
            user_id=token_owner,
            name="app",
            token_hash=hashlib.sha256(raw_token.encode()).hexdigest(),
            token_prefix=raw_token[:8],
        )
        # The app's select-then-insert race: the second sign-in of one identity fails.
        with pytest.raises(asyncpg.UniqueViolationError):
            await app_signs_in(app_id(), "app-1")
    finally:
        await conn.close()
    again = cadb.NewUser(provider="vercel", external_id="app-1", access_token="t", username="a")
    assert (await cadb.upsert_user(again, conn=pool)).id == signed_in
    through = cadb.NewUser(provider="github", external_id="777", access_token="t", username="o")
    assert (await cadb.upsert_user(through, conn=pool)).id == linked
    owner = await cadb.authenticate_api_token(raw_token, conn=pool)
    assert owner is not None
    assert owner.id == token_owner


# ---------------------------------------------------------------- reading what others wrote


async def test_reads_tolerate_document_values_the_models_do_not_know(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="odd"), conn=conn)
    logs = [
        {"type": "info", "message": "fine", "timestamp": "2025-01-01T00:00:00.000Z"},
        {"type": "thinking", "message": "unknown type", "timestamp": 1735689600000},
        {"type": "info", "message": "bad time", "timestamp": "yesterday", "extra": {"a": 1}},
        "not an object",
    ]
    sub_agents = [
        {"id": "s1", "name": "Explore", "type": "explore", "status": "starting"},
        {"id": "s2", "name": "Plan", "status": "paused", "startedAt": 1735689600},
        {"name": "no id"},
    ]
    await checks.set_raw_task_documents(
        conn, task_id=task.id, logs=logs, sub_agent_activity=sub_agents
    )

    read = await cadb.get_task(user_id=user.id, task_id=task.id, conn=conn)
    listed = await cadb.list_tasks(user_id=user.id, conn=conn)
    tail = await cadb.get_task_logs(user_id=user.id, task_id=task.id, after=1, conn=conn)

    assert read is not None
    assert read.logs is not None
    assert [entry.type for entry in read.logs] == ["info", "thinking", "info", "unreadable"]
    assert read.logs[0].timestamp == datetime(2025, 1, 1, tzinfo=UTC)
    assert read.logs[1].timestamp == 1735689600000  # kept as written
    assert read.logs[2].timestamp == "yesterday"
    assert read.logs[3].message == '"not an object"'
    assert tail is not None
    assert [entry.type for entry in tail] == ["thinking", "info", "unreadable"]
    assert [task.id for task in listed] == [task.id]
    assert listed[0].sub_agent_activity is not None
    statuses = [activity.status for activity in listed[0].sub_agent_activity]
    assert statuses == ["starting", "paused", "unreadable"]
    assert listed[0].sub_agent_activity[0].type == "explore"
    # Written back, the known odd values come out as they went in.
    assert msgspec.to_builtins(read.sub_agent_activity[:2]) == sub_agents[:2]  # type: ignore[index]


async def test_rewriting_sub_agent_activity_keeps_the_apps_type_key(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="typed"), conn=conn)
    app_written = [{"id": "s1", "name": "Explore", "type": "explore", "status": "completed"}]
    await checks.set_raw_task_documents(
        conn, task_id=task.id, logs=[], sub_agent_activity=app_written
    )
    read = await cadb.get_task(user_id=user.id, task_id=task.id, conn=conn)
    assert read is not None
    assert read.sub_agent_activity is not None
    await cadb.update_task_sub_agents(
        user_id=user.id,
        task_id=task.id,
        sub_agent_activity=read.sub_agent_activity,
        current_sub_agent="Explore",
        conn=conn,
    )
    raw = await checks.app_get_raw_documents(conn, task_id=task.id)
    assert json.loads(raw["sub_agent_activity"]) == app_written


# ---------------------------------------------------------------- the command line


async def test_command_line_dry_run_prints_the_plan_and_changes_nothing(app_database: str) -> None:
    await fill_app_data(app_database, users=1, tasks_per_user=1)
    schema = await fingerprint(app_database)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "coding_agent_db.adopt", "--dry-run", "--url", app_database],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "02.convert-timestamps" in done.stdout
    assert "lock: ACCESS EXCLUSIVE" in done.stdout
    assert "rows the package's constraints would refuse: none" in done.stdout
    assert "found: the TypeScript app's schema at drizzle 0024" in done.stdout
    assert await fingerprint(app_database) == schema


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of any shape, strings included that look like the models' values."""
    choices = ["null", "bool", "int", "float", "str", "word"]
    if depth < 3:
        choices += ["list", "object", "document"]
    kind = rng.choice(choices)
    words = ["info", "starting", "running", "", "2025-01-01T00:00:00Z", "yesterday", "\u0000x"]
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 2**31, 2**63 - 1, 1735689600000])
    if kind == "float":
        return rng.choice([0.5, -1e300, 1e-9])
    if kind == "str":
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(0, 8)))
    if kind == "word":
        return rng.choice(words)
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    keys = ["type", "message", "timestamp", "agentSource", "id", "name", "status", "startedAt"]
    keys += ["completedAt", "description", "parentAgent", "isSubAgent", "extra"]
    size = rng.randrange(0, 6) if kind == "object" else len(keys)
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(size)}


@pytest.mark.parametrize("document", [cadb.LogEntry, cadb.SubAgentActivity])
def test_reading_documents_of_any_shape_never_fails(document: Any) -> None:
    rng = random.Random(8)  # noqa: S311 - reproducible test inputs, not secrets
    for _ in range(2000):
        values = [random_json(rng) for _ in range(rng.randrange(0, 5))]
        read = read_documents(values, document)
        assert len(read) == len(values)
        assert all(isinstance(item, document) for item in read)
        msgspec.json.encode(read)  # what a caller would send back
