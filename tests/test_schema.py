"""What the database enforces by itself, and the migrations' round trip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from coding_agent_db.migrate import apply_migrations, pending_migrations, rollback_migrations
from tests.conftest import FreshDatabase, MakeUser, checks

REPO = Path(__file__).resolve().parents[1]


async def test_check_rejects_an_unknown_sign_in_provider(conn: cadb.Connection) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="users_provider_check"):
        await checks.insert_raw_user(conn, id=new_id(), provider="gitlab", external_id="1")


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("selected_agent", "devin", "tasks_selected_agent_check"),
        ("status", "paused", "tasks_status_check"),
        ("progress", 101, "tasks_progress_check"),
        ("progress", -1, "tasks_progress_check"),
        ("pr_status", "draft", "tasks_pr_status_check"),
    ],
)
async def test_check_rejects_invalid_task_values(
    conn: cadb.Connection, user: cadb.User, column: str, value: Any, constraint: str
) -> None:
    row: dict[str, Any] = {
        "selected_agent": "claude",
        "status": "pending",
        "progress": 0,
        "pr_status": None,
    }
    row[column] = value
    with pytest.raises(asyncpg.CheckViolationError, match=constraint):
        await checks.insert_raw_task(conn, id=new_id(), user_id=user.id, **row)


async def test_check_rejects_invalid_values_of_the_other_enums(
    conn: cadb.Connection, user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    with pytest.raises(asyncpg.CheckViolationError, match="task_messages_role_check"):
        await checks.insert_raw_message(
            conn, id=new_id(), user_id=user.id, task_id=task.id, role="system"
        )
    with pytest.raises(asyncpg.CheckViolationError, match="keys_provider_check"):
        await checks.insert_raw_key(conn, id=new_id(), user_id=user.id, provider="mistral")
    with pytest.raises(asyncpg.CheckViolationError, match="accounts_provider_check"):
        await checks.insert_raw_account(conn, id=new_id(), user_id=user.id, provider="gitlab")
    with pytest.raises(asyncpg.CheckViolationError, match="connectors_type_check"):
        await checks.insert_raw_connector(
            conn,
            id=new_id(),
            user_id=user.id,
            type="stdio",
            status="connected",
            base_url="https://x",
            command=None,
        )
    with pytest.raises(asyncpg.CheckViolationError, match="connectors_status_check"):
        await checks.insert_raw_connector(
            conn,
            id=new_id(),
            user_id=user.id,
            type="remote",
            status="broken",
            base_url="https://x",
            command=None,
        )
    with pytest.raises(asyncpg.CheckViolationError, match="connectors_type_target_check"):
        await checks.insert_raw_connector(
            conn,
            id=new_id(),
            user_id=user.id,
            type="local",
            status="connected",
            base_url="https://x",
            command=None,
        )


async def test_a_message_cannot_hang_off_another_users_task(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="task_messages_task_fkey"):
        await checks.insert_raw_message(
            conn, id=new_id(), user_id=other_user.id, task_id=task.id, role="user"
        )


async def test_deleting_a_user_deletes_everything_they_own(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    user = await make_user(provider="vercel")
    await cadb.link_account(
        user_id=user.id,
        account=cadb.NewAccount(external_user_id="42", access_token="gho_x", username="octo"),
        conn=conn,
    )
    await cadb.set_key(user_id=user.id, provider="openai", value="sk-test-value", conn=conn)
    # The task's prompt is its one message.
    await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(name="c", base_url="https://mcp.example.com"),
        conn=conn,
    )
    await cadb.set_setting(user_id=user.id, key="theme", value="dark", conn=conn)
    await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
    before = dict(await checks.count_rows(conn, user_id=user.id))
    assert all(count == 1 for count in before.values()), before

    await cadb.delete_user(user_id=user.id, conn=conn)

    after = dict(await checks.count_rows(conn, user_id=user.id))
    assert set(after.values()) == {0}
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_user(user_id=user.id, conn=conn)


@pytest.fixture
def blank_database(fresh_database: FreshDatabase) -> str:
    """An empty database: no migrations applied."""
    return fresh_database(migrated=False)


def yoyo(url: str, *args: str) -> str:
    """Run the yoyo command line in the repository, as the README shows."""
    environment = {**os.environ, "POSTGRES_URL": url}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "yoyo"), *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_yoyo_apply_rollback_apply_round_trip(blank_database: str) -> None:
    all_ids = pending_migrations(blank_database)
    assert len(all_ids) >= 9

    yoyo(blank_database, "apply", "--batch")
    assert pending_migrations(blank_database) == []
    yoyo(blank_database, "rollback", "--all", "--batch")
    assert pending_migrations(blank_database) == all_ids
    yoyo(blank_database, "apply", "--batch")
    assert pending_migrations(blank_database) == []
    listing = yoyo(blank_database, "list")
    assert all(f"A         {migration_id}" in listing for migration_id in all_ids)


def test_every_migration_has_a_rollback_and_a_reason() -> None:
    migrations = sorted((REPO / "migrations").glob("[0-9][0-9][0-9][0-9].*.sql"))
    forward = [path for path in migrations if not path.name.endswith(".rollback.sql")]
    assert forward
    for path in forward:
        assert path.with_name(path.name.replace(".sql", ".rollback.sql")).exists(), path.name
        first = path.read_text().splitlines()[0]
        assert first.startswith("-- "), path.name
        assert "depends" not in first, path.name


def test_python_migration_helpers_round_trip(blank_database: str) -> None:
    all_ids = pending_migrations(blank_database)
    assert apply_migrations(blank_database) == len(all_ids)
    assert apply_migrations(blank_database) == 0
    assert rollback_migrations(blank_database) == len(all_ids)
    assert pending_migrations(blank_database) == all_ids
